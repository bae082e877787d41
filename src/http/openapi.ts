import { z } from 'zod';
import type { RouteSpec } from './api.js';

type Json = Record<string, unknown>;

const problemSchema: Json = {
  type: 'object',
  description: 'RFC 9457 problem details',
  required: ['type', 'title', 'status'],
  properties: {
    type: { type: 'string', examples: ['urn:schulbruecke:problem:validation-failed'] },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    ruleIds: { type: 'array', items: { type: 'string' }, description: 'POLICY_CATALOGUE ids behind a refusal' },
    errors: {
      type: 'array',
      items: { type: 'object', properties: { in: { type: 'string' }, field: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Json {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as Json;
  return rest;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): Json[] {
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

const standardErrors: Record<number, string> = {
  400: 'Malformed request (e.g. invalid JSON)',
  401: 'Missing or invalid bearer token',
  403: 'Token lacks the scope, or a rule forbids it',
  404: 'Not found, or not visible to this token (ACC-04)',
  409: 'Conflicts with existing state',
  413: 'Body larger than 1 MiB',
  422: 'Validation failed; see `errors`',
  503: 'Database unavailable',
};

/** OpenAPI 3.1 from the same route specs (and zod schemas) that validate requests. */
export function openApiDocument(specs: RouteSpec<unknown, unknown, unknown>[], serverUrl: string, version: string): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const spec of specs) {
    const responses: Record<string, Json> = {};
    const status = spec.status ?? 200;
    responses[String(status)] =
      status === 204
        ? { description: 'Done' }
        : { description: 'OK', ...(spec.response ? { content: { 'application/json': { schema: jsonSchema(spec.response, 'output') } } } : {}) };
    const errorStatuses = new Set([...(spec.access === 'public' ? [] : [401, 403]), ...(spec.body ? [400, 413, 422] : []), ...(spec.path.includes('{') ? [404] : []), ...(spec.errors ?? []), 503]);
    for (const code of [...errorStatuses].sort()) {
      responses[String(code)] = { $ref: `#/components/responses/Problem${code}` };
    }
    paths[spec.path] ??= {};
    paths[spec.path]![spec.method] = {
      summary: spec.summary,
      tags: [spec.tag],
      operationId: `${spec.method}${spec.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^a-zA-Z0-9_]+(.)?/g, (_m, c: string | undefined) => (c ?? '').toUpperCase())}`,
      ...(spec.access === 'public'
        ? { security: [] }
        : { description: `Access: ${[spec.access.operator ? 'operator' : null, ...(spec.access.scopes ?? []).map((s) => `scope ${s}`)].filter(Boolean).join(', ')}` }),
      parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
      ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(spec.body, 'input') } } } } : {}),
      responses,
    };
  }
  const problemResponses = Object.fromEntries(
    Object.entries({ ...standardErrors, 410: 'Gone', 429: 'Too many failed attempts', 502: 'A backend (BBB, Jitsi, LMS) failed' }).map(([code, description]) => [
      `Problem${code}`,
      { description, content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } },
    ]),
  );
  return {
    openapi: '3.1.0',
    info: {
      title: 'Schulbrücke API',
      version,
      description: 'Admin and LMS REST API of the Schulbrücke LTI/IServ video-conference bridge. Errors are application/problem+json.',
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'Operator token or a tenant API token' } },
      schemas: { Problem: problemSchema },
      responses: problemResponses,
    },
    paths,
  };
}
