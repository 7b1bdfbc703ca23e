import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import { redactUrl } from '../logging/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request's line is written (chat routes write their own, richer one). */
    requestLogged: boolean;
  }
}

/** What a finished API request's log line says beyond method, URL and status. */
export interface FinishedRequestLog {
  model: string;
  engine: string | null;
  stream: boolean;
  status: number;
  outcome: string;
  errorCode: string | null;
  finishReason: string | null;
  promptTokens: number;
  completionTokens: number;
  ttftMs: number | null;
  durationMs: number;
}

/** Probes and scrapes: every few seconds, all day long; their lines are debug. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);
/** A client-chosen string (the model name) is cut to this in a log line. */
const MAX_LOGGED_TEXT = 128;

/** One line per finished request, written when the response is done; never a key, never a query value. */
export function registerRequestLog(app: FastifyInstance): void {
  app.decorateRequest('requestLogged', false);
  app.addHook('onResponse', (request, reply, done) => {
    if (!request.requestLogged) logResponse(request, reply.statusCode, reply.elapsedTime);
    done();
  });
}

function logResponse(request: FastifyRequest, status: number, elapsedMs: number): void {
  const path = request.url.split('?')[0] ?? '';
  const level = QUIET_PATHS.has(path) ? 'debug' : levelFor(status);
  if (!emits(request.log, level)) return;
  const durationMs = Math.round(elapsedMs);
  request.log[level](
    { ...baseFields(request), status, durationMs },
    `${request.method} ${redactUrl(request.url)} ${status} ${durationMs} ms`,
  );
}

/** The line of a chat (or other generating) request: model, engine, tokens, time to first token. */
export function logFinishedRequest(request: FastifyRequest, fields: FinishedRequestLog): void {
  request.requestLogged = true;
  const level = levelFor(fields.status);
  // The line's object and text are built only if it is written (a silent or warn-level server skips them).
  if (!emits(request.log, level)) return;
  const {
    engine,
    stream,
    status,
    outcome,
    errorCode,
    finishReason,
    promptTokens,
    completionTokens,
    ttftMs,
    durationMs,
  } = fields;
  const model = fields.model.length > MAX_LOGGED_TEXT ? `${fields.model.slice(0, MAX_LOGGED_TEXT)}…` : fields.model;
  const tokens = `${fields.promptTokens}+${fields.completionTokens} tokens`;
  const ttft = fields.ttftMs === null ? '' : `, ttft ${fields.ttftMs} ms`;
  const error = fields.errorCode ? ` ${fields.errorCode}` : '';
  request.log[level](
    {
      ...baseFields(request),
      model,
      engine,
      stream,
      status,
      outcome,
      errorCode,
      finishReason,
      promptTokens,
      completionTokens,
      ttftMs,
      durationMs,
    },
    `${request.method} ${redactUrl(request.url)} ${fields.status} ${fields.outcome}${error} (${model}${fields.stream ? ', stream' : ''}, ${tokens}${ttft}, ${fields.durationMs} ms)`,
  );
}

function baseFields(request: FastifyRequest): Record<string, unknown> {
  const key = request.apiKey;
  return { method: request.method, url: redactUrl(request.url), keyId: key?.id ?? null, keyName: key?.name ?? null };
}

/**
 * Whether the logger writes lines of this level: pino's own `isLevelEnabled` (Fastify's logger type
 * omits it); a logger without it is taken to write everything.
 */
function emits(log: FastifyBaseLogger, level: 'debug' | 'info' | 'warn' | 'error'): boolean {
  const isLevelEnabled = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return isLevelEnabled === undefined || isLevelEnabled.call(log, level);
}

/**
 * Only a 500 (our own fault) is an error. A 429, a 503 while a model loads or its queue is full, a
 * 502/504 from an upstream: conditions the client is told to retry, worth a warning, never a stack.
 */
function levelFor(status: number): 'info' | 'warn' | 'error' {
  if (status === 500) return 'error';
  if (status >= 500 || status === 429 || status === 499) return 'warn';
  return 'info';
}
