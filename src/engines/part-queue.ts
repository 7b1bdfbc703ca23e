import { channel } from 'node:diagnostics_channel';
import type { StreamPart } from './engine.js';
import type { EngineError } from './engine-error.js';

/** The largest text one merged part may carry: chunks stay small enough to show progress. */
const MAX_MERGED_CHARS = 16 * 1024;

/** Parts buffered before the producer is asked to pause (an upstream socket) by default. */
const DEFAULT_HIGH_WATER_MARK = 256;

/**
 * How long each part waited between its engine producing it and the server writing it to the client
 * (milliseconds, one message per written batch: `{ waitedMs: number[] }`). Stamped only while someone
 * subscribes (the benchmark): a channel without subscribers costs one boolean check per part.
 */
export const partWaitChannel = channel('oruel.part-wait');

export interface PartQueueOptions {
  /** Buffered parts past which `push` says false (the producer should pause until `whenDrained`). */
  highWaterMark?: number;
  /** The reader stopped before the end (client gone, error thrown): the producer should stop too. */
  onAbandoned?: () => void;
}

/**
 * THE queue between an engine (producer: synchronous callbacks from native code or a socket) and the
 * response writer (consumer: awaiting the client's socket), for every engine.
 *
 * - The reader takes everything waiting at once (`nextBatch`): one await per batch, and one socket
 *   write for all of it, so a burst costs one write, not one per part.
 * - Nothing is ever held back: a part pushed while the reader waits is handed over in the same turn
 *   of the event loop, together with the parts the same synchronous burst pushed after it.
 * - Deltas are merged only when the reader asks (`mergeDeltas`: the client is slower than the engine),
 *   and only those already waiting, so merging never delays a part.
 * - Bounded: past `highWaterMark` parts `push` returns false and `whenDrained` says when to resume
 *   (an upstream socket pauses; the embedded engine's output is bounded by max_tokens).
 * - `onEnd` tells an observer (the router's deployment) once the stream is over for its reader, with
 *   the error part it carried, if any.
 */
export class PartQueue implements AsyncIterable<StreamPart> {
  private buffer: StreamPart[] = [];
  private pushedAt: number[] = [];
  private batchPushedAt: number[] = [];
  private closed = false;
  private finished = false;
  private failure: EngineError | null = null;
  private waiter: ((batch: StreamPart[] | null) => void) | null = null;
  private onDrained: (() => void) | null = null;
  private readonly endListeners: ((failure: EngineError | null) => void)[] = [];
  private readonly highWaterMark: number;
  private readonly onAbandoned: (() => void) | null;

  constructor(options: PartQueueOptions = {}) {
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    this.onAbandoned = options.onAbandoned ?? null;
  }

  /** True when the reader would get a batch (or the end) without waiting. */
  get hasWaiting(): boolean {
    return this.buffer.length > 0 || this.closed;
  }

  /** Parts fed from any async iterable (tests, adapters); the queue's rules apply as for any engine. */
  static from(parts: AsyncIterable<StreamPart> | Iterable<StreamPart>): PartQueue {
    const queue = new PartQueue();
    void (async () => {
      try {
        for await (const part of parts) queue.push(part);
      } finally {
        queue.close();
      }
    })();
    return queue;
  }

  /** Adds a part; false when the producer should pause until `whenDrained` calls back. */
  push(part: StreamPart): boolean {
    if (this.closed || this.finished) return true;
    if (part.type === 'error') this.failure ??= part.error;
    this.buffer.push(part);
    if (partWaitChannel.hasSubscribers) this.pushedAt.push(performance.now());
    const waiter = this.waiter;
    if (waiter) {
      // The reader runs after this synchronous burst anyway (a promise); it takes whatever the burst
      // pushed (a whole socket read of chunks), so a burst is one batch, and no part waits for I/O.
      this.waiter = null;
      queueMicrotask(() => waiter(this.take(false)));
      return true;
    }
    return this.buffer.length < this.highWaterMark;
  }

  /** The producer is done: the reader gets what is buffered, then the end. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiter = this.waiter;
    if (!waiter) return;
    this.waiter = null;
    this.finish();
    waiter(null);
  }

  /** Called once when the reader emptied the buffer after `push` asked for a pause. */
  whenDrained(callback: () => void): void {
    this.onDrained = callback;
  }

  /** Called once when the stream is over for its reader (read to the end, or abandoned). */
  onEnd(listener: (failure: EngineError | null) => void): void {
    if (this.finished) listener(this.failure);
    else this.endListeners.push(listener);
  }

  /**
   * Every part waiting now, in order (waits for at least one); null once the producer closed and all
   * was read. `mergeDeltas`: join adjacent deltas of the same choice (and call) into one part.
   */
  nextBatch(mergeDeltas = false): Promise<StreamPart[] | null> {
    if (this.buffer.length > 0) return Promise.resolve(this.take(mergeDeltas));
    if (this.closed || this.finished) {
      this.finish();
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** The reader wrote the last batch to the client: reports how long its parts waited (when observed). */
  written(): void {
    if (this.batchPushedAt.length === 0) return;
    const now = performance.now();
    const waitedMs = this.batchPushedAt.map((at) => now - at);
    this.batchPushedAt = [];
    if (partWaitChannel.hasSubscribers) partWaitChannel.publish({ waitedMs });
  }

  /** The reader stops early: nothing more will be read, and the producer is told to stop. */
  cancel(): void {
    if (this.finished) return;
    const early = !this.closed;
    this.closed = true;
    this.buffer = [];
    this.finish();
    this.drained();
    if (early) this.onAbandoned?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamPart> {
    try {
      for (let batch = await this.nextBatch(); batch; batch = await this.nextBatch()) yield* batch;
    } finally {
      this.cancel();
    }
  }

  private take(mergeDeltas: boolean): StreamPart[] {
    const batch = this.buffer;
    this.buffer = [];
    if (this.pushedAt.length > 0) {
      this.batchPushedAt = this.batchPushedAt.concat(this.pushedAt);
      this.pushedAt = [];
    }
    this.drained();
    return mergeDeltas && batch.length > 1 ? mergeWaitingDeltas(batch) : batch;
  }

  private drained(): void {
    const callback = this.onDrained;
    this.onDrained = null;
    callback?.();
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const listener of this.endListeners.splice(0)) listener(this.failure);
  }
}

/**
 * Adjacent deltas that continue each other (text of the same choice, arguments of the same tool call)
 * as one part each; any other part keeps its place. The text is the same either way, in fewer chunks.
 */
function mergeWaitingDeltas(parts: readonly StreamPart[]): StreamPart[] {
  const merged: StreamPart[] = [];
  for (const part of parts) {
    const last = merged.at(-1);
    if (last && continues(last, part)) merged[merged.length - 1] = join(last, part);
    else merged.push(part);
  }
  return merged;
}

function continues(previous: StreamPart, next: StreamPart): boolean {
  if (previous.type === 'text-delta' && next.type === 'text-delta')
    return previous.choice === next.choice && previous.text.length < MAX_MERGED_CHARS;
  if (previous.type === 'tool-call-delta' && next.type === 'tool-call-delta') {
    return (
      previous.choice === next.choice &&
      previous.callIndex === next.callIndex &&
      previous.argumentsText.length < MAX_MERGED_CHARS
    );
  }
  return false;
}

function join(previous: StreamPart, next: StreamPart): StreamPart {
  if (previous.type === 'text-delta' && next.type === 'text-delta')
    return { ...previous, text: previous.text + next.text };
  if (previous.type === 'tool-call-delta' && next.type === 'tool-call-delta')
    return { ...previous, argumentsText: previous.argumentsText + next.argumentsText };
  return previous;
}
