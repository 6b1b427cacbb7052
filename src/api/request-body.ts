import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';

/**
 * Operation bodies are JSON objects whatever the Content-Type says (curl -d sends a form type),
 * and an empty or missing body means `{}` (CONTRACT §2).
 */
export function acceptJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, {});
    let parsed: unknown;
    try {
      // JSON.parse makes "__proto__" an own key, which later spreads and merges would turn into a
      // prototype; the reviver costs time, so it only runs when the key can be there at all.
      parsed = text.includes('__proto__') ? JSON.parse(text, refuseProtoKeys) : JSON.parse(text);
    } catch (error) {
      if (error instanceof GatewayError) return done(error);
      return done(
        new GatewayError('INVALID_PARAMETER', 'the request body is not valid JSON', { parameter: 'body' }),
      );
    }
    if (parsed === null) return done(null, {});
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      return done(
        new GatewayError('INVALID_PARAMETER', 'the request body must be a JSON object', {
          parameter: 'body',
        }),
      );
    }
    done(null, parsed);
  });
}

function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') {
    throw new GatewayError('INVALID_PARAMETER', 'parameter "__proto__": is not allowed in a request body', {
      parameter: '__proto__',
    });
  }
  return value;
}
