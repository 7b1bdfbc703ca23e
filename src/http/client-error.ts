import type { Socket } from 'node:net';
import { GatewayError } from '../errors/index.js';
import { errorBody } from './error-response.js';

export interface ConnectionTimeouts {
  headersTimeoutMs: number;
  requestTimeoutMs: number;
}

/**
 * Errors Node raises on a connection before a request reaches a route (a request that did not arrive
 * in time, malformed HTTP, oversized headers): answered in the OpenAI error envelope, then the
 * connection is closed. A response that already began is never corrupted: then the socket only closes.
 */
export function clientErrorHandler(
  timeouts: ConnectionTimeouts,
): (error: NodeJS.ErrnoException, socket: Socket) => void {
  return (error, socket) => {
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) socket.write(rawResponse(toGatewayError(error, timeouts)));
    socket.destroy(error);
  };
}

function toGatewayError(error: NodeJS.ErrnoException, timeouts: ConnectionTimeouts): GatewayError {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return new GatewayError(
      'request_timeout',
      `The request did not arrive in time: headers are expected within ${timeouts.headersTimeoutMs} ms and the whole request within ${timeouts.requestTimeoutMs} ms.`,
    );
  }
  if (error.code === 'HPE_HEADER_OVERFLOW')
    return new GatewayError('invalid_request', 'The request headers are too large.', { status: 431 });
  return new GatewayError('invalid_request', 'The request is not valid HTTP.');
}

function rawResponse(error: GatewayError): string {
  const body = errorBody(error);
  const reason =
    error.status === 408 ? 'Request Timeout' : error.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  return `HTTP/1.1 ${error.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}
