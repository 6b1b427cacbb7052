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
      parsed = JSON.parse(text);
    } catch {
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
