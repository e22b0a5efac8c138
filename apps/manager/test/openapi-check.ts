import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

/**
 * Checks an HTTP response of a running manager against the OpenAPI document
 * that manager serves (/openapi.json): the route and method are described, the
 * status is one of the operation's responses (or its default), the content
 * type one the response lists, and a JSON body valid against its schema
 * (JSON Schema 2020-12, with ajv). Every request of the e2e tests' harness
 * goes through it (harness.ts, RunningManager.http).
 */
interface Operation {
  responses: Record<string, { content?: Record<string, { schema?: object }> }>;
}
interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components?: object;
}
interface Checker {
  readonly doc: OpenApi;
  readonly routes: ReadonlyArray<{ template: string; pattern: RegExp }>;
  schema(key: string, schema: object): ValidateFunction;
}

const checkers = new Map<number, Promise<Checker>>();

async function checkerFor(port: number): Promise<Checker> {
  const res = await fetch(`http://127.0.0.1:${port}/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /openapi.json answered ${res.status}: ${await res.text()}`);
  const doc = (await res.json()) as OpenApi;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  const compiled = new Map<string, ValidateFunction>();
  return {
    doc,
    routes: Object.keys(doc.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
    })),
    // The document's components ride along, so `#/components/schemas/…` resolves inside each compiled schema.
    schema(key, schema) {
      let validate = compiled.get(key);
      if (!validate) compiled.set(key, (validate = ajv.compile({ ...schema, components: doc.components })));
      return validate;
    },
  };
}

export interface CheckedResponse {
  readonly status: number;
  readonly contentType: string | null;
  readonly text: string;
  readonly json: unknown;
}

/** Throws, naming what differs, when the response is not one the manager's /openapi.json describes. */
export async function expectDescribedByOpenApi(port: number, method: string, url: string, res: CheckedResponse): Promise<void> {
  let checker = checkers.get(port);
  if (!checker) checkers.set(port, (checker = checkerFor(port)));
  const { doc, routes, schema } = await checker;
  const path = url.split('?')[0]!;
  const where = `${method} ${url} → ${res.status}`;
  const route = routes.find((r) => r.pattern.test(path));
  const operation = route ? doc.paths[route.template]![method.toLowerCase()] : undefined;
  if (!route || !operation) {
    // Not an operation of this server: only the catalogue's not-found answer is right.
    if (res.status !== 404) throw new Error(`${where}: /openapi.json describes no ${method} ${path}, yet the server answered ${res.status}`);
    return checkBody(`${where} (not found)`, res, { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } }, schema, 'not-found');
  }
  const status = String(res.status);
  const response = operation.responses[status] ?? operation.responses['default'];
  if (!response) throw new Error(`${where}: /openapi.json lists no ${status} (nor default) for ${method} ${route.template}`);
  const key = `${method} ${route.template} ${operation.responses[status] ? status : 'default'}`;
  if (!response.content) {
    if (res.text !== '') throw new Error(`${where}: /openapi.json describes no body, the server sent ${JSON.stringify(res.text.slice(0, 200))}`);
    return;
  }
  checkBody(where, res, response.content, schema, key);
}

function checkBody(where: string, res: CheckedResponse, content: Record<string, { schema?: object }>, schema: Checker['schema'], key: string): void {
  const mediaType = (res.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const described = content[mediaType];
  if (!described)
    throw new Error(`${where}: content type ${JSON.stringify(res.contentType)} is not one /openapi.json lists (${Object.keys(content).join(', ')})`);
  if (!described.schema || !/^application\/(.+\+)?json$/.test(mediaType)) return;
  const validate = schema(`${key} ${mediaType}`, described.schema);
  if (!validate(res.json)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
    throw new Error(`${where}: the body does not match /openapi.json:\n  ${problems.join('\n  ')}\nbody: ${res.text.slice(0, 500)}`);
  }
}
