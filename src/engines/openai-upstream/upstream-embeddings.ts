import type { Pool } from 'undici';
import type { EmbeddingRequest, EmbeddingResult } from '../engine.js';
import { EngineError } from '../engine-error.js';
import { readErrorDetails } from './error-body.js';
import { asCount, asRecord, parseJson } from './json-value.js';
import { parseRetryAfter } from './retry-after.js';
import type { TokenCounter } from './token-counter.js';
import { errorFromStatus, errorFromTransport } from './upstream-errors.js';

export interface EmbeddingCall {
  pool: Pool;
  path: string;
  headers: Record<string, string>;
  upstreamModel: string;
  responseTimeoutMs: number;
  counter: TokenCounter;
}

/** Largest upstream embeddings body read (2048 inputs of 4096 floats as JSON text is about 170 MB; this bounds it). */
const MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

/**
 * POST {base}/embeddings and read the vectors. Floats are always asked for (the gateway encodes base64
 * itself, the same for every engine). Statuses and transport failures become the same EngineErrors as
 * chat's, so the router fails over the same way.
 */
export async function requestEmbeddings(
  call: EmbeddingCall,
  request: EmbeddingRequest,
  signal: AbortSignal,
): Promise<EmbeddingResult> {
  const body: Record<string, unknown> = {
    ...request.extraBody,
    model: call.upstreamModel,
    input: request.input,
    encoding_format: 'float',
  };
  if (request.dimensions !== null) body.dimensions = request.dimensions;
  if (request.user !== null) body.user = request.user;
  let status: number;
  let text: string;
  let headers: Record<string, string | string[] | undefined>;
  try {
    const response = await call.pool.request({
      path: call.path,
      method: 'POST',
      headers: call.headers,
      body: JSON.stringify(body),
      signal: AbortSignal.any([signal, AbortSignal.timeout(call.responseTimeoutMs)]),
    });
    status = response.statusCode;
    headers = response.headers;
    text = await readBounded(response.body);
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    if ((error as Error).name === 'TimeoutError')
      throw new EngineError('timeout', `The upstream engine sent no embeddings within ${call.responseTimeoutMs} ms.`, {
        cause: error,
      });
    throw errorFromTransport(error);
  }
  const json = parseJson(text);
  if (status >= 400) {
    throw errorFromStatus(
      status,
      readErrorDetails(json),
      parseRetryAfter(header(headers['retry-after-ms']), header(headers['retry-after'])),
    );
  }
  return readEmbeddings(json, request, call.counter);
}

async function readEmbeddings(
  json: unknown,
  request: EmbeddingRequest,
  counter: TokenCounter,
): Promise<EmbeddingResult> {
  const data = asRecord(json)?.data;
  if (!Array.isArray(data) || data.length !== request.input.length) {
    throw new EngineError(
      'upstream_error',
      `The upstream engine answered without ${request.input.length} embeddings.`,
      { retryable: true },
    );
  }
  const vectors: number[][] = new Array<number[]>(data.length);
  for (const [position, item] of data.entries()) {
    const record = asRecord(item);
    const index = typeof record?.index === 'number' ? record.index : position;
    const embedding = record?.embedding;
    if (
      !Array.isArray(embedding) ||
      !embedding.every((value) => typeof value === 'number') ||
      index < 0 ||
      index >= data.length
    ) {
      throw new EngineError(
        'upstream_error',
        'The upstream engine answered with an embedding that is not a list of numbers.',
        { retryable: true },
      );
    }
    vectors[index] = embedding as number[];
  }
  const reported = asCount(asRecord(asRecord(json)?.usage)?.prompt_tokens);
  if (reported !== null) return { vectors, promptTokens: reported, source: 'engine' };
  let counted = 0;
  for (const input of request.input)
    counted += typeof input === 'string' ? await counter.countCompletion(input) : input.length;
  return { vectors, promptTokens: counted, source: 'counted' };
}

async function readBounded(body: AsyncIterable<Buffer>): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_RESPONSE_BYTES)
      throw new EngineError('upstream_error', `The upstream engine's embeddings exceed ${MAX_RESPONSE_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
