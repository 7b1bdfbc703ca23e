import type { ServerResponse } from 'node:http';
import type { FastifyError, FastifyReply } from 'fastify';
import { GatewayError, toGatewayError } from '../errors/index.js';

/** The one error serializer: `{"error": {message, type, param, code}}` with the catalog's status. */
export function errorBody(error: GatewayError): string {
  return JSON.stringify({ error: error.toWire() });
}

/** Sends an error through Fastify (the normal path). */
export function sendError(reply: FastifyReply, error: GatewayError): FastifyReply {
  return reply.code(error.status).headers(error.headers).type('application/json; charset=utf-8').send(errorBody(error));
}

/** Writes an error on a raw response Fastify no longer manages (a hijacked stream before its first byte). */
export function writeRawError(
  response: ServerResponse,
  error: GatewayError,
  headers: Record<string, string | number | string[]>,
): void {
  if (response.headersSent || response.writableEnded) return;
  response.writeHead(error.status, { ...headers, ...error.headers, 'content-type': 'application/json; charset=utf-8' });
  response.end(errorBody(error));
}

/** Fastify's own errors (bad JSON, body too large, ...) in the contract's vocabulary. */
export function fromFastifyError(error: FastifyError | Error): GatewayError {
  if (error instanceof GatewayError) return error;
  const status = (error as FastifyError).statusCode;
  const code = (error as FastifyError).code;
  if (status === 413 || code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new GatewayError('body_too_large', 'The request body is too large.');
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return new GatewayError(
      'unsupported_media_type',
      'Send the request body as JSON (Content-Type: application/json).',
    );
  }
  if (
    error instanceof SyntaxError ||
    code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ||
    code === 'FST_ERR_CTP_INVALID_JSON_BODY'
  ) {
    return new GatewayError(
      'invalid_json',
      'We could not parse the JSON body of your request. The OpenAI API expects a JSON payload; make sure the body is valid JSON.',
    );
  }
  if (status !== undefined && status >= 400 && status < 500) return new GatewayError('invalid_request', error.message);
  return toGatewayError(error);
}
