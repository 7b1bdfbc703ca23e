import type { StreamPart } from '../engine.js';
import { takeMerged } from './coalesce.js';

/**
 * The parts of one upstream stream, between the socket (producer, synchronous callbacks) and the SSE
 * writer (consumer, awaiting the client's socket). Past `highWaterMark` buffered parts the producer
 * is told to pause the upstream socket; it is resumed once the consumer has taken everything, so a
 * slow client slows the upstream instead of filling memory. Deltas waiting together leave together
 * (see `takeMerged`).
 */
export class PartQueue implements AsyncIterable<StreamPart>, AsyncIterator<StreamPart> {
  private buffer: StreamPart[] = [];
  private readIndex = 0;
  private closed = false;
  private waiting: ((result: IteratorResult<StreamPart>) => void) | null = null;
  private onDrained: (() => void) | null = null;

  /** `onAbandoned`: the consumer stopped reading before the end; the producer should stop too. */
  constructor(
    private readonly highWaterMark: number,
    private readonly onAbandoned: () => void,
  ) {}

  /** Adds a part; false when the producer should pause until `whenDrained` fires. */
  push(part: StreamPart): boolean {
    if (this.closed) return true;
    const waiting = this.waiting;
    if (waiting) {
      // The consumer is already waiting: hand the part over without buffering it.
      this.waiting = null;
      waiting({ value: part, done: false });
      return true;
    }
    this.buffer.push(part);
    return this.buffer.length - this.readIndex < this.highWaterMark;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.({ value: undefined, done: true });
  }

  /** Called once when the consumer emptied the buffer after `push` asked for a pause. */
  whenDrained(callback: () => void): void {
    this.onDrained = callback;
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamPart> {
    return this;
  }

  next(): Promise<IteratorResult<StreamPart>> {
    if (this.readIndex < this.buffer.length) {
      const { part, next } = takeMerged(this.buffer, this.readIndex);
      this.readIndex = next;
      if (this.readIndex === this.buffer.length) this.drained();
      return Promise.resolve({ value: part, done: false });
    }
    if (this.closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** The consumer stopped early (client gone, error thrown): nothing more will be read. */
  return(): Promise<IteratorResult<StreamPart>> {
    const early = !this.closed;
    this.closed = true;
    this.drained();
    if (early) this.onAbandoned();
    return Promise.resolve({ value: undefined, done: true });
  }

  private drained(): void {
    this.buffer.length = 0;
    this.readIndex = 0;
    const callback = this.onDrained;
    this.onDrained = null;
    callback?.();
  }
}
