import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifyInstance, FastifyRequest } from 'fastify';

// ajv-formats is CommonJS: under NodeNext its default export arrives as the module object.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as AddFormats;

/**
 * Checks every JSON response against its route's response schema before serialization, so a converter that adds a
 * field the schema lacks (which serialization would silently drop) or leaves out a required one fails loudly. On in
 * every test server (`ServerOptions.checkResponses`); off in production, where the schemas serialize as usual.
 */
export function installResponseCheck(app: FastifyInstance): void {
  const ajv = new Ajv({ allErrors: true, strict: false });
  addFormats(ajv);
  const cache = new WeakMap<object, ValidateFunction>();

  function schemaFor(req: FastifyRequest, status: number): object | undefined {
    const response = (req.routeOptions.schema as { response?: Record<string, object> } | undefined)?.response;
    if (!response) return undefined;
    return response[String(status)] ?? response[`${String(status)[0]}xx`] ?? response.default;
  }

  app.addHook('preSerialization', async (req, reply, payload: unknown) => {
    if (payload === null || typeof payload !== 'object') return payload;
    const schema = schemaFor(req, reply.statusCode);
    if (!schema) return payload;
    let validate = cache.get(schema);
    if (!validate) {
      validate = ajv.compile(schema);
      cache.set(schema, validate);
    }
    // Serialize-then-parse: what is checked is exactly the JSON a client would receive without a schema.
    const plain: unknown = JSON.parse(JSON.stringify(payload));
    if (!validate(plain)) {
      const detail = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`).join('; ');
      throw new Error(`response of ${req.method} ${req.routeOptions.url ?? req.url} does not match its schema: ${detail}`);
    }
    return payload;
  });
}
