import { pino, type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { LiveLineGuard } from './live-line.js';
import { REDACTED, REDACTED_PATHS } from './redact.js';

type LogFormat = 'auto' | 'json' | 'pretty';
type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface LoggerOptions {
  level: LogLevel;
  /** `auto`: pretty when the stream is a terminal, JSON otherwise. */
  format: LogFormat;
  /** Default: process.stdout. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Shared with progress displays so a bar never shares a line with a log line. */
  liveLine?: LiveLineGuard;
}

/** The server's logger: one JSON object per line, or readable single lines for people; secrets redacted either way. */
export function createLogger(options: LoggerOptions): Logger {
  const stream = options.stream ?? process.stdout;
  const guard = options.liveLine ?? new LiveLineGuard();
  const pretty = options.format === 'pretty' || (options.format === 'auto' && stream.isTTY === true);
  const format = pretty ? prettyLines(stream.isTTY === true) : (line: string) => line;
  // Written synchronously, line by line: a worker-thread transport could reorder lines with a progress bar.
  const destination = { write: (line: string) => guard.write(stream, format(line)) };
  return pino({ level: options.level, redact: { paths: REDACTED_PATHS, censor: REDACTED } }, destination);
}

function prettyLines(colorize: boolean): (line: string) => string {
  return prettyFactory({ colorize, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
}
