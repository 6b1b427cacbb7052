/**
 * The reference MQTT broker of the device benchmark: aedes as its README starts it, with no
 * authentication, no persistence beyond the default in-memory one, and nothing else. Logs the
 * same `listening` line as the gateway.
 */
import { createServer } from 'node:net';
import { Aedes } from 'aedes';

const broker = await Aedes.createBroker();
const server = createServer(broker.handle);
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as { port: number };
  process.stdout.write(`${JSON.stringify({ msg: 'listening', listener: 'mqtt', port })}\n`);
});
