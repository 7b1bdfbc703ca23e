import { OperatorError } from '../errors/index.js';

/** What a failed download is about: the operator's name for it (an `hf:` URI) and the address fetched. */
export interface DownloadSubject {
  url: string;
  label?: string;
  tokenGiven: boolean;
  /** The wait allowed for an answer, named when the server stayed silent. */
  timeoutMs?: number;
}

const OFFLINE_ADVICE =
  'To run without downloading, point at a model file you already have (--model ./path/to/model.gguf), ' +
  'or set ORUEL_HF_ENDPOINT to a reachable Hugging Face mirror.';

const REASONS_BY_CODE: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found (offline, or no DNS)',
  EAI_AGAIN: 'host name lookup failed (offline, or no DNS)',
  ENETUNREACH: 'network unreachable',
  EHOSTUNREACH: 'host unreachable',
  ETIMEDOUT: 'timed out',
  UND_ERR_CONNECT_TIMEOUT: 'timed out while connecting',
  UND_ERR_HEADERS_TIMEOUT: 'timed out waiting for the response',
  UND_ERR_BODY_TIMEOUT: 'timed out waiting for data',
  UND_ERR_SOCKET: 'connection closed by the server',
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
  SELF_SIGNED_CERT_IN_CHAIN: "the server's TLS certificate is not trusted (self-signed chain)",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "the server's TLS certificate cannot be verified",
};

/** The request never got an answer: say why, and how to do without the network. */
export function networkFailure(subject: DownloadSubject, error: unknown): OperatorError {
  return new OperatorError(
    `Download of ${subject.url} failed: ${describeNetworkError(error)}${silence(subject, error)}. ${OFFLINE_ADVICE}`,
  );
}

/** ", no answer within 30 s" for a timeout, so the operator sees the wait was bounded on purpose. */
function silence(subject: DownloadSubject, error: unknown): string {
  const code =
    (error as { cause?: { code?: string } } | null)?.cause?.code ?? (error as { code?: string } | null)?.code;
  if (subject.timeoutMs === undefined || !code || !/TIMEOUT|ETIMEDOUT/.test(code)) return '';
  const wait = subject.timeoutMs >= 1000 ? `${Math.round(subject.timeoutMs / 1000)} s` : `${subject.timeoutMs} ms`;
  return ` (no answer within ${wait})`;
}

/** The transfer kept breaking off; what was received stays on disk for the next attempt. */
export function interruptedFailure(subject: DownloadSubject, partPath: string, error: unknown): OperatorError {
  return new OperatorError(
    `Download of ${subject.url} was interrupted: ${describeNetworkError(error)}. ` +
      `The part received so far is kept in ${partPath}; run the same command again to resume.`,
  );
}

/** The server answered, but not with the file. */
export function httpFailure(subject: DownloadSubject, status: number): OperatorError {
  const name = subject.label ?? subject.url;
  const where = subject.label ? ` (${subject.url})` : '';
  return new OperatorError(
    `Cannot download ${name}${where}: HTTP ${status}, ${explainStatus(status, subject.tokenGiven)}`,
  );
}

function explainStatus(status: number, tokenGiven: boolean): string {
  if (status === 401 || status === 403) {
    return tokenGiven
      ? 'the access token was refused or lacks access to this repository (for a gated model, accept its terms on the Hub first).'
      : 'the repository does not exist, or it is private or gated and needs an access token (--token).';
  }
  if (status === 404) return 'no such file: check the owner, repository, revision and file path.';
  if (status === 429) return 'too many requests: wait a while and try again.';
  if (status >= 500) return 'the server failed: try again later, or set ORUEL_HF_ENDPOINT to a mirror.';
  return 'an unexpected answer for a file download.';
}

/** A short reason with its code, e.g. "connection refused (ECONNREFUSED)", from fetch's nested causes. */
function describeNetworkError(error: unknown): string {
  const code = findErrorCode(error);
  const reason = code === undefined ? undefined : REASONS_BY_CODE[code];
  if (reason !== undefined) return `${reason} (${code})`;
  const message = innermostMessage(error);
  return code === undefined ? message : `${message} (${code})`;
}

function findErrorCode(error: unknown): string | undefined {
  for (const link of causeChain(error)) {
    const code = (link as { code?: unknown }).code;
    if (typeof code === 'string') return code;
  }
  return undefined;
}

function innermostMessage(error: unknown): string {
  const chain = causeChain(error);
  const innermost = chain[chain.length - 1];
  if (innermost instanceof Error && innermost.message) return innermost.message;
  return String(innermost ?? error);
}

/** fetch wraps the socket's error: TypeError("fetch failed") -> cause (maybe an AggregateError). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 8) {
    chain.push(current);
    if (current instanceof AggregateError && current.errors.length > 0) {
      current = current.errors[0];
    } else {
      current = current instanceof Error ? current.cause : undefined;
    }
  }
  return chain;
}
