import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { Agent, fetch } from 'undici';
import { OperatorError } from '../errors/index.js';
import { httpFailure, interruptedFailure, networkFailure, type DownloadSubject } from './download-errors.js';
import { bodyLength, headFileSize, parseContentRange, parseUnsatisfiedRangeTotal } from './http-headers.js';

/** Called as bytes arrive; `totalBytes` is null when the server does not say how large the file is. */
export type DownloadProgress = (downloadedBytes: number, totalBytes: number | null) => void;

export interface DownloadOptions {
  url: string;
  /** The final file; bytes go to `${destination}.part` until the whole file is there. */
  destination: string;
  /** The operator's name for the file (e.g. its `hf:` URI), used in error messages. */
  label?: string;
  /** Sent as `Authorization: Bearer <token>` (fetch drops it on a redirect to another host). */
  token?: string;
  signal?: AbortSignal;
  onProgress?: DownloadProgress;
  /** How many times a transfer that breaks off midway is resumed at once (default 5). */
  maxResumes?: number;
  /** Longest wait to connect, for the response headers, and between two pieces of the body (default 30 s). */
  timeoutMs?: number;
}

type Response = Awaited<ReturnType<typeof fetch>>;

const DEFAULT_MAX_RESUMES = 5;
/** A server that does not answer within this is reported, instead of leaving the command silent for minutes. */
const DEFAULT_DOWNLOAD_TIMEOUT_MS = 30_000;
const USER_AGENT = 'oruel';

/** A transfer that broke off after the response started; resumable from what reached the disk. */
class TransferInterrupted extends Error {
  constructor(
    readonly bytesReceived: number,
    cause: unknown,
  ) {
    super('transfer interrupted', { cause });
  }
}

/**
 * Downloads `url` to `destination`, resuming a `.part` left by an earlier attempt, and renames it
 * into place only once its size matches what the server announced. On abort, the `.part` stays.
 */
export async function downloadFile(options: DownloadOptions): Promise<void> {
  const partPath = `${options.destination}.part`;
  await mkdir(dirname(options.destination), { recursive: true });
  let resumesLeft = options.maxResumes ?? DEFAULT_MAX_RESUMES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS;
  // undici's defaults wait 300 s for headers; a silent endpoint must be reported well before that.
  const agent = new Agent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs });
  const withAgent: Transfer = { ...options, agent, timeoutMs };
  try {
    for (;;) {
      try {
        await transferOnce(withAgent, partPath);
        await rename(partPath, options.destination);
        return;
      } catch (error) {
        if (!(error instanceof TransferInterrupted)) throw error;
        // Only retry at once while the server keeps delivering; a dead server gets no hammering.
        if (resumesLeft <= 0 || error.bytesReceived === 0)
          throw interruptedFailure(subjectOf(withAgent), partPath, error.cause);
        resumesLeft -= 1;
      }
    }
  } finally {
    await agent.destroy().catch(() => undefined);
  }
}

interface Transfer extends DownloadOptions {
  agent: Agent;
  timeoutMs: number;
}

/** One request: appends to (or restarts) the `.part` file; resolves when it holds the whole file. */
async function transferOnce(options: Transfer, partPath: string): Promise<void> {
  const existingBytes = await fileSize(partPath);
  const response = await send(options, 'GET', existingBytes);
  if (response.status === 206) return appendPartialContent(options, partPath, response, existingBytes);
  if (response.status === 200) {
    // Also the answer of a server that ignores Range: its body is the whole file, so start over.
    const total = bodyLength(response.headers);
    await writeBody(options, response, { partPath, append: false, startBytes: 0, total });
    return checkComplete(options, partPath, total);
  }
  await discardBody(response);
  if (response.status === 416 && existingBytes > 0)
    return settleUnsatisfiedRange(options, partPath, response, existingBytes);
  throw httpFailure(subjectOf(options), response.status);
}

async function appendPartialContent(
  options: Transfer,
  partPath: string,
  response: Response,
  existingBytes: number,
): Promise<void> {
  const range = parseContentRange(response.headers.get('content-range'));
  if (range === null || range.start !== existingBytes) {
    await discardBody(response);
    if (existingBytes === 0)
      throw new OperatorError(
        `Download of ${options.url} failed: the server sent a part of the file when asked for all of it.`,
      );
    // Not the bytes asked for: appending them would corrupt the file, so fetch it whole instead.
    await rm(partPath, { force: true });
    return transferOnce(options, partPath);
  }
  await writeBody(options, response, { partPath, append: true, startBytes: existingBytes, total: range.total });
  return checkComplete(options, partPath, range.total);
}

/** A 416 to `bytes=N-` means N is at or past the end: done if N is exactly the file's size. */
async function settleUnsatisfiedRange(
  options: Transfer,
  partPath: string,
  response: Response,
  existingBytes: number,
): Promise<void> {
  const total = parseUnsatisfiedRangeTotal(response.headers.get('content-range')) ?? (await remoteFileSize(options));
  if (total === existingBytes) {
    options.onProgress?.(existingBytes, total);
    return;
  }
  // The partial file is longer than the remote one (or its size is unknown): it cannot be trusted.
  await rm(partPath, { force: true });
  return transferOnce(options, partPath);
}

async function remoteFileSize(options: Transfer): Promise<number | null> {
  const response = await send(options, 'HEAD', 0);
  await discardBody(response);
  return response.ok ? headFileSize(response.headers) : null;
}

interface BodyTarget {
  partPath: string;
  append: boolean;
  startBytes: number;
  total: number | null;
}

async function writeBody(options: Transfer, response: Response, target: BodyTarget): Promise<void> {
  let received = 0;
  const report = (): void => options.onProgress?.(target.startBytes + received, target.total);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      report();
      callback(null, chunk);
    },
  });
  let diskError: unknown;
  const file = createWriteStream(target.partPath, { flags: target.append ? 'a' : 'w' });
  file.once('error', (error) => (diskError = error));
  report();
  try {
    await pipeline(bodyStream(response), counter, file, options.signal ? { signal: options.signal } : {});
  } catch (error) {
    // A disk error is emitted before pipeline rejects; what the file emits later is the body's error passed on.
    const diskFailure = diskError;
    // The resume reads the .part's size: wait until the write in flight has landed and the file is closed,
    // or the next request starts too early and those bytes end up in the file twice.
    if (!file.closed) await new Promise<void>((resolve) => file.once('close', () => resolve()));
    throwIfAborted(options.signal);
    if (diskFailure !== undefined)
      throw new OperatorError(`Cannot write ${target.partPath}: ${(diskFailure as Error).message}`);
    throw new TransferInterrupted(received, error);
  }
  if (target.total !== null && target.startBytes + received < target.total) {
    throw new TransferInterrupted(
      received,
      new Error(`the server closed the response after ${target.startBytes + received} of ${target.total} bytes`),
    );
  }
}

async function checkComplete(options: Transfer, partPath: string, total: number | null): Promise<void> {
  const size = await fileSize(partPath);
  if (total === null || size === total) return;
  await rm(partPath, { force: true });
  throw new OperatorError(
    `Download of ${options.url} produced ${size} bytes where the server announced ${total}; ` +
      'the partial file was removed (the remote file may have changed): run the command again.',
  );
}

async function send(options: Transfer, method: 'GET' | 'HEAD', rangeStart: number): Promise<Response> {
  // identity: byte counts must be the file's, and Range offsets must point into the file itself.
  const headers: Record<string, string> = { 'accept-encoding': 'identity', 'user-agent': USER_AGENT };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (rangeStart > 0) headers.range = `bytes=${rangeStart}-`;
  try {
    return await fetch(options.url, {
      method,
      headers,
      redirect: 'follow',
      signal: options.signal ?? null,
      dispatcher: options.agent,
    });
  } catch (error) {
    throwIfAborted(options.signal);
    throw networkFailure(subjectOf(options), error);
  }
}

function bodyStream(response: Response): Readable {
  if (response.body === null) return Readable.from([]);
  // The global fetch's web stream and node:stream/web's are the same object with different typings.
  return Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
}

/** Frees the connection of a response whose body is not wanted. */
async function discardBody(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to free if the stream already failed.
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  signal?.throwIfAborted();
}

async function fileSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

function subjectOf(options: Transfer): DownloadSubject {
  return { url: options.url, label: options.label, tokenGiven: Boolean(options.token), timeoutMs: options.timeoutMs };
}
