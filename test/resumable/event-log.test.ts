import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamGoneError, type EventLog, type LoggedEvent } from '../../src/sse/resume/event-log.js';
import { MemoryEventLog } from '../../src/sse/resume/memory-event-log.js';
import { RedisEventLog } from '../../src/sse/resume/redis-event-log.js';
import { openTestRedis } from '../limits/redis-test.js';

/** Both event logs behave the same: replay then live, each event once, and clear failures for what is gone. */
const limits = { maxEvents: 100, retentionMs: 60_000 };
let redis: Awaited<ReturnType<typeof openTestRedis>>;
const logs: [string, () => EventLog][] = [
  ['memory', () => new MemoryEventLog(limits)],
  ['redis', () => new RedisEventLog(redis.connection, limits)],
];

beforeAll(async () => {
  redis = await openTestRedis();
});
afterAll(async () => redis?.dispose());

const event = (seq: number, terminal = false): LoggedEvent => ({
  seq,
  data: terminal ? '[DONE]' : `{"n":${seq}}`,
  terminal,
});

async function readAll(
  log: EventLog,
  id: string,
  after: number,
  signal = new AbortController().signal,
): Promise<number[]> {
  const seen: number[] = [];
  for await (const item of log.read(id, after, signal)) seen.push(item.seq);
  return seen;
}

describe.each(logs)('%s event log', (_name, create) => {
  it('replays what is stored after the id, then live appends, up to the terminal entry', async () => {
    const log = create();
    await log.create('s1', { keyId: 'k' });
    expect(await log.owner('s1')).toEqual({ keyId: 'k' });
    await log.append('s1', [event(1), event(2), event(3)]);
    const reading = readAll(log, 's1', 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await log.append('s1', [event(4)]);
    await new Promise((resolve) => setTimeout(resolve, 30));
    await log.append('s1', [event(5), event(6, true)]);
    expect(await reading).toEqual([2, 3, 4, 5, 6]);
    expect(await readAll(log, 's1', 5)).toEqual([6]);
    expect(await readAll(log, 's1', 6)).toEqual([]);
    await log.close();
  });

  it('says a stream is gone once deleted, and when events asked for were trimmed by the cap', async () => {
    const log = create();
    await log.create('s2', { keyId: null });
    await log.append(
      's2',
      Array.from({ length: 250 }, (_, index) => event(index + 1)),
    );
    await expect(readAll(log, 's2', 0)).rejects.toBeInstanceOf(StreamGoneError);
    await log.delete('s2');
    expect(await log.owner('s2')).toBeNull();
    await expect(readAll(log, 's2', 0)).rejects.toBeInstanceOf(StreamGoneError);
    await log.close();
  });

  it('tracks the reader heartbeat and delivery, and a reader stops when its signal aborts', async () => {
    const log = create();
    await log.create('s3', { keyId: 'k' });
    expect(await log.readerSeenAt('s3')).toBeNull();
    await log.touchReader('s3');
    expect(Math.abs((await log.readerSeenAt('s3'))! - Date.now())).toBeLessThan(5_000);
    expect(await log.delivered('s3')).toBe(false);
    await log.markDelivered('s3');
    expect(await log.delivered('s3')).toBe(true);
    const controller = new AbortController();
    const reading = readAll(log, 's3', 0, controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await reading).toEqual([]);
    await log.close();
  });
});
