// OpenAPI 3.1 from the route table, with zod 4's own JSON Schema output (draft 2020-12, the
// dialect of OpenAPI 3.1). Request schemas in their input form (defaults make fields optional),
// responses in their output form. Schemas are inlined: every response carries its whole schema.
import { z } from 'zod';
import { ROUTES, openApiPath, type ApiRoute } from './routes.js';

type Json = Record<string, unknown>;

export function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'query' | 'path'): Json[] {
  if (!schema) return [];
  const js = jsonSchema(schema, 'input') as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (js.required ?? []).includes(name),
    schema: s,
    ...(typeof s.description === 'string' ? { description: s.description } : {}),
  }));
}

function operation(r: ApiRoute): Json {
  const responses: Json = {};
  for (const [status, res] of Object.entries(r.responses)) {
    const type = res.schema ? 'application/json' : (res.contentType ?? 'application/json');
    responses[status] = {
      description: res.description,
      content: { [type]: res.schema ? { schema: jsonSchema(res.schema, 'output') } : {} },
    };
  }
  return {
    operationId: `${r.method}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: r.summary,
    tags: [r.tag],
    ...(r.auth ? { security: [{ bearer: [] }] } : {}),
    parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
    ...(r.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } } } : {}),
    responses,
  };
}

let built: Json | null = null;

export function openApiDocument(version = '0.1.0'): Json {
  if (built) return built;
  const paths: Record<string, Json> = {};
  for (const r of ROUTES) (paths[openApiPath(r.path)] ??= {})[r.method] = operation(r);
  built = {
    openapi: '3.1.0',
    info: {
      title: 'Stream Fighter',
      version,
      description:
        'The parity endpoints (/stream/*) answer snake_case, as the Python version did; every other endpoint answers camelCase. ' +
        'Errors are `{error, message, details}`. Control endpoints take `Authorization: Bearer <API_TOKEN>` when the server has one.',
    },
    tags: [
      { name: 'parity', description: 'the Python control plane (snake_case)' },
      { name: 'streams', description: 'named streams' },
      { name: 'polls', description: 'polls and votes' },
      { name: 'operations', description: 'health, metrics, sessions, stats' },
      { name: 'docs', description: 'this document' },
    ],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
  return built;
}
