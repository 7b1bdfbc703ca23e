import cliProgress from 'cli-progress';
import type { LiveLineGuard } from '../logging/index.js';
import type { DownloadProgress } from './download.js';
import { formatBytes } from './format-bytes.js';

export interface ProgressDisplay {
  onProgress: DownloadProgress;
  /** Ends the display (leaves the finished bar on screen); safe to call more than once. */
  stop(): void;
}

export interface ProgressDisplayOptions {
  /** What is being downloaded, shown before the bar (e.g. the `hf:` URI). */
  label: string;
  /** Default: process.stderr, so stdout stays clean for the command's result. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
  /** The server's guard: log lines are written above the bar, never into it. */
  liveLine?: LiveLineGuard;
}

/** Lines printed per unknown-size download: one per this many bytes. */
const UNKNOWN_SIZE_LINE_EVERY = 100 * 1024 * 1024;

/** A live bar on a terminal; on a log file or a pipe, one line per 10% so the log stays readable. */
export function createProgressDisplay(options: ProgressDisplayOptions): ProgressDisplay {
  const stream = options.stream ?? process.stderr;
  return stream.isTTY
    ? createBarDisplay(options.label, stream, options.liveLine)
    : createLineDisplay(options.label, stream);
}

function createBarDisplay(
  label: string,
  stream: NodeJS.WritableStream,
  liveLine: LiveLineGuard | undefined,
): ProgressDisplay {
  let bar: cliProgress.SingleBar | undefined;
  let detach: (() => void) | undefined;
  let shownTotal: number | null = null;
  const startedAt = Date.now();
  let firstBytes = 0;

  const payload = (downloaded: number, total: number | null): object => {
    const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
    return {
      label,
      downloaded: formatBytes(downloaded),
      size: total === null ? '?' : formatBytes(total),
      speed: `${formatBytes((downloaded - firstBytes) / seconds)}/s`,
    };
  };

  const onProgress: DownloadProgress = (downloaded, total) => {
    if (bar === undefined) {
      firstBytes = downloaded;
      shownTotal = total;
      // forceRedraw: after a log line erased it, the bar is drawn again even if nothing changed.
      const created = new cliProgress.SingleBar({
        stream,
        format: barFormat(total),
        hideCursor: false,
        barsize: 30,
        forceRedraw: true,
      });
      bar = created;
      created.start(total ?? 1, total === null ? 0 : downloaded, payload(downloaded, total));
      detach = liveLine?.attach({ clear: () => stream.write('\r\x1b[2K'), redraw: () => created.render() });
      return;
    }
    // A server that ignored Range restarts the file; its size is the one to show from then on.
    if (total !== null && total !== shownTotal) {
      shownTotal = total;
      bar.setTotal(total);
    }
    bar.update(total === null ? 0 : downloaded, payload(downloaded, total));
  };

  return {
    onProgress,
    stop: () => {
      detach?.();
      bar?.stop();
      bar = undefined;
    },
  };
}

function barFormat(total: number | null): string {
  if (total === null) return '{label} {downloaded} received | {speed}';
  return '{label} [{bar}] {percentage}% | {downloaded} / {size} | {speed} | ETA {eta_formatted}';
}

function createLineDisplay(label: string, stream: NodeJS.WritableStream): ProgressDisplay {
  let lastStep: number | undefined;
  const onProgress: DownloadProgress = (downloaded, total) => {
    const step =
      total === null || total === 0
        ? Math.floor(downloaded / UNKNOWN_SIZE_LINE_EVERY)
        : Math.floor((downloaded / total) * 10);
    if (step === lastStep) return;
    lastStep = step;
    stream.write(`Downloading ${label}: ${describeAmount(downloaded, total)}\n`);
  };
  return { onProgress, stop: () => {} };
}

function describeAmount(downloaded: number, total: number | null): string {
  if (total === null || total === 0) return `${formatBytes(downloaded)} received`;
  const percent = Math.floor((downloaded / total) * 100);
  return `${percent}% (${formatBytes(downloaded)} of ${formatBytes(total)})`;
}
