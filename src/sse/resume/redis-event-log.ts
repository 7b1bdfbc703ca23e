import type { Redis } from 'ioredis';
import type { RedisConnection } from '../../storage/redis.js';
import {
  StreamGoneError,
  type EventLog,
  type EventLogLimits,
  type LoggedEvent,
  type StreamOwner,
} from './event-log.js';

/** Entries read per XRANGE. */
const PAGE = 256;
/** A reader re-checks this often even without a notification (a lost PUBLISH costs at most this). */
const POLL_MS = 1_000;

/**
 * Resumable streams in Redis, so any replica can serve a reconnect: the events in a Redis stream
 * (entry id `seq-0`, capped with MAXLEN ~ and expiring with the retention), the owner key, a reader
 * heartbeat and a delivered flag beside it. Appends PUBLISH on the stream's channel; readers wait on
 * one shared subscriber connection per replica instead of blocking a connection each.
 */
export class RedisEventLog implements EventLog {
  private subscriber: Promise<Redis> | null = null;
  private readonly waiters = new Map<string, Set<() => void>>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly limits: EventLogLimits,
  ) {}

  async create(id: string, owner: StreamOwner): Promise<void> {
    await this.redis.client.set(this.key(id, 'o'), JSON.stringify(owner), 'PX', this.limits.retentionMs);
  }

  async append(id: string, events: readonly LoggedEvent[]): Promise<void> {
    if (events.length === 0) return;
    const pipeline = this.redis.client.pipeline();
    const key = this.key(id, 'e');
    for (const event of events) {
      const fields =
        event.data === null ? ['t', event.terminal ? '1' : '0'] : ['t', event.terminal ? '1' : '0', 'd', event.data];
      pipeline.xadd(key, 'MAXLEN', '~', String(this.limits.maxEvents), `${event.seq}-0`, ...fields);
    }
    pipeline.pexpire(key, this.limits.retentionMs);
    pipeline.pexpire(this.key(id, 'o'), this.limits.retentionMs);
    pipeline.publish(this.channel(id), String(events.at(-1)!.seq));
    const results = await pipeline.exec();
    const failed = results?.find(([error]) => error !== null);
    if (failed) throw failed[0];
  }

  async owner(id: string): Promise<StreamOwner | null> {
    const text = await this.redis.client.get(this.key(id, 'o'));
    return text === null ? null : (JSON.parse(text) as StreamOwner);
  }

  async *read(id: string, afterSeq: number, signal: AbortSignal): AsyncIterable<LoggedEvent> {
    let next = afterSeq + 1;
    const channel = this.channel(id);
    let notified: boolean;
    const wake: { fn: () => void } = { fn: () => undefined };
    const listener = () => {
      notified = true;
      wake.fn();
    };
    await this.listen(channel, listener);
    try {
      for (;;) {
        if (signal.aborted) return;
        notified = false;
        const entries = await this.redis.client.xrange(this.key(id, 'e'), `${next}-0`, '+', 'COUNT', PAGE);
        if (entries.length === 0) {
          if ((await this.owner(id)) === null) throw new StreamGoneError(`The stream ${id} is no longer available.`);
          // Asked for what follows the end: there is nothing more.
          const [newest] = await this.redis.client.xrevrange(this.key(id, 'e'), '+', '-', 'COUNT', 1);
          const last = newest ? toEvent(newest[0], newest[1]) : null;
          if (last?.terminal && last.seq < next) return;
          // Appended between the two reads: read them now.
          if (last && last.seq >= next) continue;
          if (!notified) await this.waitForNotification(wake, signal);
          continue;
        }
        for (const [entryId, fields] of entries) {
          const event = toEvent(entryId, fields);
          if (event.seq !== next)
            throw new StreamGoneError(`Events after ${next - 1} of stream ${id} are no longer kept.`);
          yield event;
          next += 1;
          if (event.terminal) return;
        }
      }
    } finally {
      await this.unlisten(channel, listener);
    }
  }

  async touchReader(id: string): Promise<void> {
    await this.redis.client.set(this.key(id, 'r'), String(Date.now()), 'PX', this.limits.retentionMs);
  }

  async readerSeenAt(id: string): Promise<number | null> {
    const text = await this.redis.client.get(this.key(id, 'r'));
    return text === null ? null : Number(text);
  }

  async markDelivered(id: string): Promise<void> {
    await this.redis.client.set(this.key(id, 'd'), '1', 'PX', this.limits.retentionMs);
  }

  async delivered(id: string): Promise<boolean> {
    return (await this.redis.client.exists(this.key(id, 'd'))) === 1;
  }

  async delete(id: string): Promise<void> {
    await this.redis.client.del(this.key(id, 'e'), this.key(id, 'o'), this.key(id, 'r'), this.key(id, 'd'));
    await this.redis.client.publish(this.channel(id), 'deleted');
  }

  async close(): Promise<void> {
    const subscriber = await this.subscriber?.catch(() => null);
    this.subscriber = null;
    subscriber?.disconnect();
  }

  private waitForNotification(wake: { fn: () => void }, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        wake.fn = () => undefined;
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      wake.fn = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private async listen(channel: string, listener: () => void): Promise<void> {
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
      await (await this.subscriberConnection()).subscribe(channel);
    }
    set.add(listener);
  }

  private async unlisten(channel: string, listener: () => void): Promise<void> {
    const set = this.waiters.get(channel);
    set?.delete(listener);
    if (set && set.size === 0) {
      this.waiters.delete(channel);
      await (await this.subscriberConnection()).unsubscribe(channel).catch(() => undefined);
    }
  }

  private subscriberConnection(): Promise<Redis> {
    this.subscriber ??= this.redis.subscriber().then((subscriber) => {
      subscriber.on('message', (channel: string) => {
        for (const listener of this.waiters.get(channel) ?? []) listener();
      });
      return subscriber;
    });
    return this.subscriber;
  }

  private key(id: string, part: 'e' | 'o' | 'r' | 'd'): string {
    return `${this.redis.keyPrefix}rs:${id}:${part}`;
  }

  private channel(id: string): string {
    return `${this.redis.keyPrefix}rs:${id}`;
  }
}

function toEvent(entryId: string, fields: string[]): LoggedEvent {
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index]!, fields[index + 1]!);
  return { seq: Number(entryId.split('-')[0]), data: values.get('d') ?? null, terminal: values.get('t') === '1' };
}
