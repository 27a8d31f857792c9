import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { coerceError } from '../../lib/errors.js';
import type { Response } from '../../sdk/types/response.js';

import { ApiError, errors } from './errors.js';
import { toValidations } from './validation.js';

/** Writes an envelope. The only place error bodies are produced. */
export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  const body: Response = { message: e.message };
  if (e.detail) body.detail = e.detail;
  if (e.validations?.length) body.validations = e.validations;
  return reply.code(e.status).type('application/json; charset=utf-8').send(body);
}

function fromFastify(err: FastifyError, req: FastifyRequest): ApiError {
  if (err.validation) {
    if (err.validationContext === 'params') {
      const first = err.validation[0];
      const name = first?.instancePath.replace(/^\//, '') ?? '';
      const raw = String((req.params as Record<string, unknown>)[name] ?? '');
      return errors.invalidUuid(raw, name);
    }
    const data = err.validationContext === 'querystring' ? req.query : req.body;
    return errors.validation(toValidations(err.validation, data));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiError(413, 'Request body is too large.', err.message);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidJson(err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'Unsupported content type.', err.message);
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message);
  return errors.internal('An internal server error occurred.');
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((raw, req, reply) => {
    const err = raw as FastifyError | ApiError;
    const apiErr = err instanceof ApiError ? err : fromFastify(err as FastifyError, req);
    if (apiErr.status >= 500) req.log.error({ err: coerceError(raw) }, 'request failed');
    if (reply.sent || reply.raw.headersSent) return;
    return sendError(reply, apiErr);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, errors.routeNotFound(req.method, req.url)));
}
