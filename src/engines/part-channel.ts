import type { StreamPart } from './engine.js';

/**
 * Turns callback-driven generation into an async iterable of parts.
 * Producers push synchronously from native callbacks; the consumer pulls at its own pace.
 * Buffering is bounded by the generation itself (max tokens), never by a slow client alone,
 * because the SSE writer applies socket backpressure on the consumer side.
 */
export class PartChannel implements AsyncIterable<StreamPart> {
  private readonly buffer: StreamPart[] = [];
  private closed = false;
  private wake: (() => void) | null = null;

  push(part: StreamPart): void {
    if (this.closed) return;
    this.buffer.push(part);
    this.notify();
  }

  close(): void {
    this.closed = true;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<StreamPart> {
    for (;;) {
      if (this.buffer.length > 0) {
        // Drain everything present at once: one await per batch, not per part.
        const batch = this.buffer.splice(0, this.buffer.length);
        for (const part of batch) yield part;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }
}
