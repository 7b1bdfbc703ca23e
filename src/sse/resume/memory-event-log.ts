import {
  StreamGoneError,
  type EventLog,
  type EventLogLimits,
  type LoggedEvent,
  type StreamOwner,
} from './event-log.js';

interface MemoryStream {
  owner: StreamOwner;
  events: LoggedEvent[];
  /** seq of events[0] minus one: what the length cap dropped. */
  dropped: number;
  readerSeenAt: number | null;
  delivered: boolean;
  wakers: Set<() => void>;
  expiry: NodeJS.Timeout;
}

/** One replica's resumable streams, in this process. */
export class MemoryEventLog implements EventLog {
  private readonly streams = new Map<string, MemoryStream>();

  constructor(private readonly limits: EventLogLimits) {}

  async create(id: string, owner: StreamOwner): Promise<void> {
    this.streams.set(id, {
      owner,
      events: [],
      dropped: 0,
      readerSeenAt: null,
      delivered: false,
      wakers: new Set(),
      expiry: this.expiryTimer(id),
    });
  }

  async append(id: string, events: readonly LoggedEvent[]): Promise<void> {
    const stream = this.streams.get(id);
    if (!stream) return;
    stream.events.push(...events);
    const excess = stream.events.length - this.limits.maxEvents;
    if (excess > 0) {
      stream.events.splice(0, excess);
      stream.dropped += excess;
    }
    stream.expiry.refresh();
    for (const wake of stream.wakers) wake();
  }

  async owner(id: string): Promise<StreamOwner | null> {
    return this.streams.get(id)?.owner ?? null;
  }

  async *read(id: string, afterSeq: number, signal: AbortSignal): AsyncIterable<LoggedEvent> {
    let next = afterSeq + 1;
    for (;;) {
      const stream = this.streams.get(id);
      if (!stream) throw new StreamGoneError(`The stream ${id} is no longer available.`);
      if (next <= stream.dropped)
        throw new StreamGoneError(`Events after ${afterSeq} of stream ${id} are no longer kept.`);
      const from = next - stream.dropped - 1;
      for (const event of stream.events.slice(from)) {
        yield event;
        next = event.seq + 1;
        if (event.terminal) return;
      }
      if (signal.aborted) return;
      const last = stream.events.at(-1);
      // Events appended while the reader was busy with the last ones: read them before waiting.
      if ((last?.seq ?? 0) >= next) continue;
      // Asked for what follows the end: there is nothing more.
      if (last?.terminal) return;
      await new Promise<void>((resolve) => {
        const wake = () => {
          stream.wakers.delete(wake);
          signal.removeEventListener('abort', wake);
          resolve();
        };
        stream.wakers.add(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
      if (signal.aborted) return;
    }
  }

  async touchReader(id: string): Promise<void> {
    const stream = this.streams.get(id);
    if (stream) stream.readerSeenAt = Date.now();
  }

  async readerSeenAt(id: string): Promise<number | null> {
    return this.streams.get(id)?.readerSeenAt ?? null;
  }

  async markDelivered(id: string): Promise<void> {
    const stream = this.streams.get(id);
    if (stream) stream.delivered = true;
  }

  async delivered(id: string): Promise<boolean> {
    return this.streams.get(id)?.delivered ?? false;
  }

  async delete(id: string): Promise<void> {
    const stream = this.streams.get(id);
    if (!stream) return;
    clearTimeout(stream.expiry);
    this.streams.delete(id);
    for (const wake of stream.wakers) wake();
  }

  async close(): Promise<void> {
    for (const id of [...this.streams.keys()]) await this.delete(id);
  }

  private expiryTimer(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => void this.delete(id), this.limits.retentionMs);
    timer.unref();
    return timer;
  }
}
