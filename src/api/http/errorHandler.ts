import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';

import { isConnectionLoss } from '../../db/pool.js';
import { coerceError } from '../../lib/errors.js';
import type { Response } from '../../sdk/types/response.js';

import { ApiError, errors } from './errors.js';
import { toValidations } from './validation.js';

/** Writes an envelope. The only place error bodies are produced. */
export function sendError(reply: FastifyReply, e: ApiError): FastifyReply {
  return reply.code(e.status).type('application/json; charset=utf-8').send(envelope(e));
}

function envelope(e: ApiError): Response {
  const body: Response = { message: e.message };
  if (e.detail) body.detail = e.detail;
  if (e.validations?.length) body.validations = e.validations;
  return body;
}

function fromFastify(err: FastifyError, req: FastifyRequest): ApiError {
  if (err.validation) {
    if (err.validationContext === 'params') {
      const first = err.validation[0];
      const name = first?.instancePath.replace(/^\//, '') ?? '';
      const raw = String((req.params as Record<string, unknown>)[name] ?? '');
      return errors.invalidUuid(raw, name);
    }
    if (err.validationContext === 'body') {
      // Like Coder's decoder: no body at all, or a body that is not an object, is not the JSON the route reads.
      if (req.body === undefined) return errors.invalidJson('The request body is empty: a JSON object is expected.');
      if (err.validation.some((v) => v.instancePath === '' && v.keyword === 'type')) {
        return errors.invalidJson('The request body must be a JSON object.');
      }
    }
    const data = err.validationContext === 'querystring' ? req.query : req.body;
    return errors.validation(toValidations(err.validation, data));
  }
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.bodyTooLarge(req.routeOptions.bodyLimit);
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.invalidJson(err.message);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiError(415, 'Unsupported content type.', err.message);
    case 'FST_ERR_BAD_URL':
      return new ApiError(400, 'Invalid URL.', 'The request path is not valid percent-encoding.');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new ApiError(400, 'A path parameter is too long.');
  }
  if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return new ApiError(err.statusCode, err.message);
  // The database is down or restarting: say so (the client may retry), rather than an opaque 500.
  if (isConnectionLoss(err)) return new ApiError(503, 'The database is unavailable.', 'Try again shortly.');
  return errors.internal('An internal server error occurred.');
}

/**
 * Fastify options that keep its own error bodies away from clients: errors raised before routing (a path that is not
 * valid percent-encoding, an over-long path parameter) go through the envelope too. Spread into `Fastify({...})`.
 */
export const fastifyErrorOptions: Pick<FastifyServerOptions, 'frameworkErrors'> = {
  frameworkErrors(err, req, reply) {
    const apiErr = fromFastify(err, req);
    if (apiErr.status >= 500) req.log.error({ err: coerceError(err) }, 'request failed');
    sendError(reply, apiErr);
  },
};

/** Malformed HTTP (bad request line, header overflow) never reaches Fastify; answer with the envelope and hang up. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const e =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new ApiError(431, 'Request headers are too large.')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new ApiError(408, 'Request timed out.')
        : new ApiError(400, 'Malformed HTTP request.', err.code);
  const body = JSON.stringify(envelope(e));
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_CODES[e.status] ?? ''}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
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
  // Replaces Fastify's own clientError listener, whose body is not the envelope.
  app.server.removeAllListeners('clientError');
  app.server.on('clientError', onClientError);
}
