/**
 * The reference HTTP server of the device benchmark: Fastify 5 with the one route a device write
 * uses, answering 204 after reading the form body, with no authentication and no storage. Logs
 * the same `listening` line as the gateway.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
// The body is read whole and left unparsed, as the cheapest server of this route would.
app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
  done(null, body),
);
// '::' is a literal ':' in a Fastify path.
app.post('/onep::v1/stack/alias', async (_request, reply) => reply.code(204).send());
const address = await app.listen({ port: 0, host: '127.0.0.1' });
const port = Number(new URL(address).port);
process.stdout.write(`${JSON.stringify({ msg: 'listening', listener: 'device-http', port })}\n`);
