import { operationAliases, operations } from '../core/operations.js';
import { ErrorBody } from '../core/schemas/common.js';

const DESCRIPTIONS: Record<number, string> = {
  200: 'Success.',
  204: 'Done; no body.',
  205: 'Deleted; no body.',
  400: 'A parameter is invalid; the message names it.',
  401: 'Missing or wrong admin token.',
  404: 'Unknown identity, resource or operation.',
  409: 'Conflict with stored data.',
  413: 'The body is too large.',
};

const errorResponse = (status: number) => ({
  description: DESCRIPTIONS[status],
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** JSON round trip drops TypeBox's symbol keys, leaving plain JSON Schema (valid in OpenAPI 3.1). */
const plain = (schema: unknown): unknown => JSON.parse(JSON.stringify(schema));

/** The OpenAPI document of the management API, generated from the schemas that validate it. */
export function buildOpenApiDocument(version: string): Record<string, unknown> {
  const aliasesOf = (name: string) =>
    Object.entries(operationAliases)
      .filter(([, target]) => target === name)
      .map(([alias]) => alias);
  const paths: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(operations)) {
    const aliases = aliasesOf(name);
    const success =
      'result' in spec
        ? { description: DESCRIPTIONS[200], content: { 'application/json': { schema: plain(spec.result) } } }
        : { description: DESCRIPTIONS[spec.status] };
    paths[`/api/v1/device2/${name}`] = {
      post: {
        operationId: name,
        summary: spec.summary,
        ...(aliases.length > 0 && {
          description: `Also served as ${aliases.map((a) => `/api/v1/device2/${a}`).join(', ')}.`,
        }),
        tags: ['device2'],
        requestBody: { required: false, content: { 'application/json': { schema: plain(spec.params) } } },
        responses: {
          [spec.status]: success,
          400: errorResponse(400),
          401: errorResponse(401),
          404: errorResponse(404),
          409: errorResponse(409),
          413: errorResponse(413),
        },
      },
    };
  }
  paths['/health'] = {
    get: {
      operationId: 'health',
      security: [],
      responses: { 200: { description: 'OK', content: { 'text/plain': { schema: { type: 'string' } } } } },
    },
  };
  paths['/metrics'] = {
    get: {
      operationId: 'metrics',
      security: [],
      responses: {
        200: {
          description: 'Prometheus text format',
          content: { 'text/plain': { schema: { type: 'string' } } },
        },
      },
    },
  };
  return {
    openapi: '3.1.0',
    info: {
      title: 'fleetgate management API',
      version,
      description: 'The Device2 operations; every call is POST with the parameters object as JSON body.',
    },
    security: [{ adminToken: [] }],
    components: {
      securitySchemes: { adminToken: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: plain(ErrorBody) },
    },
    paths,
  };
}
