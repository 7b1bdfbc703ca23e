import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/models/format-bytes.js';
import { createProgressDisplay } from '../../src/models/progress.js';

function captureStream(isTTY: boolean): { stream: PassThrough & { isTTY: boolean }; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY });
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return { stream, text: () => chunks.join('') };
}

describe('createProgressDisplay without a terminal', () => {
  it('prints one line per 10% instead of a bar', async () => {
    const { stream, text } = captureStream(false);
    const display = createProgressDisplay({ label: 'hf:o/r/m.gguf', stream });
    const total = 10 * 1024 * 1024;
    for (let bytes = 0; bytes <= total; bytes += 64 * 1024) display.onProgress(bytes, total);
    display.stop();
    await new Promise((resolve) => setImmediate(resolve));

    const lines = text().trimEnd().split('\n');
    expect(lines).toHaveLength(11);
    expect(lines[0]).toBe('Downloading hf:o/r/m.gguf: 0% (0 B of 10.0 MiB)');
    expect(lines[5]).toBe('Downloading hf:o/r/m.gguf: 50% (5.00 MiB of 10.0 MiB)');
    expect(lines[10]).toBe('Downloading hf:o/r/m.gguf: 100% (10.0 MiB of 10.0 MiB)');
  });

  it('counts bytes when the size is unknown', async () => {
    const { stream, text } = captureStream(false);
    const display = createProgressDisplay({ label: 'x', stream });
    display.onProgress(0, null);
    display.onProgress(1000, null);
    display.stop();
    await new Promise((resolve) => setImmediate(resolve));

    expect(text()).toBe('Downloading x: 0 B received\n');
  });
});

describe('createProgressDisplay on a terminal', () => {
  it('draws a bar with the label and sizes', async () => {
    const { stream, text } = captureStream(true);
    const display = createProgressDisplay({ label: 'hf:o/r/m.gguf', stream });
    display.onProgress(512 * 1024, 1024 * 1024);
    display.onProgress(1024 * 1024, 1024 * 1024);
    display.stop();
    await new Promise((resolve) => setImmediate(resolve));

    expect(text()).toContain('hf:o/r/m.gguf [');
    expect(text()).toContain('100% | 1.00 MiB / 1.00 MiB');
  });
});

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [15 * 1024 * 1024, '15.0 MiB'],
    [491_400_032, '469 MiB'],
    [4.07 * 1024 ** 3, '4.07 GiB'],
  ])('%d bytes -> %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});
