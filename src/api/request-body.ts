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
    const problem = structureProblem(parsed);
    if (problem) return done(problem);
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

/** Deeper than any parameter of the reference nests; bounds the recursion of later steps. */
export const MAX_BODY_DEPTH = 32;

/**
 * JSON.parse makes "__proto__" (however it is escaped in the text) an own key, which a later
 * spread or merge would turn into a prototype; and free-form parameters (solution_sync, pki vendor
 * options) would otherwise accept nesting deep enough to overflow the stack of whatever walks them.
 */
function structureProblem(root: unknown): GatewayError | undefined {
  const pending: [unknown, number][] = [[root, 1]];
  while (pending.length > 0) {
    const [value, depth] = pending.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > MAX_BODY_DEPTH) {
      return new GatewayError(
        'INVALID_PARAMETER',
        `the request body nests deeper than ${MAX_BODY_DEPTH} levels`,
        {
          parameter: 'body',
        },
      );
    }
    if (Object.hasOwn(value, '__proto__')) {
      return new GatewayError(
        'INVALID_PARAMETER',
        'parameter "__proto__": is not allowed in a request body',
        {
          parameter: '__proto__',
        },
      );
    }
    for (const inner of Object.values(value)) pending.push([inner, depth + 1]);
  }
  return undefined;
}
