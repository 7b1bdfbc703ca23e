import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logging/create-logger.js';
import { LiveLineGuard } from '../../src/logging/live-line.js';
import { maskUrlPassword, redactUrl } from '../../src/logging/redact.js';
import { createProgressDisplay } from '../../src/models/progress.js';

/** A stream that says it is a terminal and records everything written to it. */
function fakeTerminal() {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120, cursorTo: undefined });
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return { stream, text: () => text };
}

describe('a progress bar and log lines on one terminal', () => {
  it('erases the bar before a log line and draws it again after, so they never share a line', async () => {
    const terminal = fakeTerminal();
    const guard = new LiveLineGuard();
    const logger = createLogger({ level: 'info', format: 'pretty', stream: terminal.stream, liveLine: guard });
    const progress = createProgressDisplay({ label: 'hf:o/r/m.gguf', stream: terminal.stream, liveLine: guard });
    progress.onProgress(10, 100);
    logger.info('model ready');
    progress.onProgress(50, 100);
    progress.stop();
    logger.info('after the bar');
    await new Promise((resolve) => setImmediate(resolve));
    const text = terminal.text();
    const logAt = text.indexOf('model ready');
    expect(logAt).toBeGreaterThan(0);
    // Just before the log line: the bar's line erased (cursor at its start, line cleared).
    const before = text.slice(0, logAt);
    expect(before.lastIndexOf('\r\x1b[2K')).toBeGreaterThan(before.lastIndexOf('hf:o/r/m.gguf'));
    const logLineStart = before.slice(before.lastIndexOf('\r\x1b[2K') + 5);
    expect(logLineStart).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] /);
    expect(logLineStart).not.toContain('hf:o/r/m.gguf');
    // Right after it: a newline, then the bar again on a line of its own.
    const after = text.slice(logAt);
    // eslint-disable-next-line no-control-regex -- the colour codes pino-pretty writes on a terminal
    expect(after).toMatch(/^model ready(\x1b\[[\d;]*m)*\n[^\n]*hf:o\/r\/m\.gguf \[/);
    // Once the bar stopped, log lines are written as they are.
    expect(text.slice(text.indexOf('after the bar') - 30)).not.toContain('\x1b[2K');
  });

  it('writes log lines untouched when no bar is live', () => {
    const guard = new LiveLineGuard();
    const written: string[] = [];
    const stream = new PassThrough();
    stream.on('data', (chunk: Buffer) => written.push(chunk.toString()));
    guard.write(stream, 'a line\n');
    const detach = guard.attach({ clear: () => stream.write('<clear>'), redraw: () => stream.write('<bar>') });
    guard.write(stream, 'b line\n');
    detach();
    guard.write(stream, 'c line\n');
    expect(stream.read()?.toString() ?? written.join('')).toBe('a line\n<clear>b line\n<bar>c line\n');
  });
});

describe('redaction helpers', () => {
  it('replaces every query value and keeps the names', () => {
    expect(redactUrl('/v1/inference/models?api_key=oruel_secret&x=1&flag')).toBe(
      '/v1/inference/models?api_key=[redacted]&x=[redacted]&flag',
    );
    expect(redactUrl('/v1/inference/models')).toBe('/v1/inference/models');
  });

  it('masks database and Redis passwords', () => {
    expect(maskUrlPassword('postgres://oruel:hunter2@db:5432/oruel')).toBe('postgres://oruel:****@db:5432/oruel');
    expect(maskUrlPassword('redis://:s3cret@127.0.0.1:6379/0')).toBe('redis://:****@127.0.0.1:6379/0');
    expect(maskUrlPassword('postgres://db/oruel?password=hunter2&sslmode=require')).toBe(
      'postgres://db/oruel?password=****&sslmode=require',
    );
    expect(maskUrlPassword('sqlite:/var/lib/oruel/oruel.db')).toBe('sqlite:/var/lib/oruel/oruel.db');
  });
});

describe('the log format', () => {
  it('is JSON on a pipe and readable lines on a terminal, unless chosen', () => {
    const lines = (format: 'auto' | 'json' | 'pretty', isTTY: boolean) => {
      const stream = Object.assign(new PassThrough(), { isTTY });
      createLogger({ level: 'info', format, stream }).info({ keyId: 'key_1' }, 'hello');
      return (stream.read() as Buffer).toString();
    };
    expect(JSON.parse(lines('auto', false))).toMatchObject({ level: 30, msg: 'hello', keyId: 'key_1' });
    expect(lines('auto', true)).toMatch(/INFO.*hello/);
    expect(() => JSON.parse(lines('auto', true))).toThrow();
    expect(JSON.parse(lines('json', true))).toMatchObject({ msg: 'hello' });
    expect(lines('pretty', false)).toMatch(/^\[[\d:.]+\] INFO: hello \{"keyId":"key_1"\}\n$/);
  });

  it('redacts an authorization header or key in any logged object', () => {
    const stream = new PassThrough();
    createLogger({ level: 'info', format: 'json', stream }).info(
      { headers: { authorization: 'Bearer oruel_x' }, apiKey: 'oruel_y', token: 'admin' },
      'x',
    );
    const text = (stream.read() as Buffer).toString();
    expect(text).not.toMatch(/oruel_x|oruel_y|admin"/);
  });
});
