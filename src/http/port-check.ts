import { createServer } from 'node:net';
import { OperatorError } from '../errors/index.js';

/**
 * Binds the address for a moment and lets it go: `serve` learns that its port is taken before it opens
 * the database, creates a key or loads a model. (`listen` maps the same errors, for the rare race.)
 */
export async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => resolve());
  }).catch((error: unknown) => {
    throw listenError(error, host, port);
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

/** The operator's one line for a failed bind; anything unexpected keeps its own error. */
export function listenError(error: unknown, host: string, port: number): unknown {
  switch ((error as NodeJS.ErrnoException).code) {
    case 'EADDRINUSE':
      return new OperatorError(`port ${port} is in use; choose another with --port`, { cause: error });
    case 'EACCES':
      return new OperatorError(`no permission to listen on port ${port}; choose a port above 1023 with --port`, {
        cause: error,
      });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
      return new OperatorError(
        `cannot listen on ${host}: no such address on this machine; choose another with --host`,
        { cause: error },
      );
    default:
      return error;
  }
}
