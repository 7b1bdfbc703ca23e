import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listModelsReport } from '../../src/cli/models.js';
import { listLocalModels, listPartialDownloads } from '../../src/models/local-models.js';

describe('local models', () => {
  let modelsDir: string;

  beforeEach(async () => {
    modelsDir = await mkdtemp(join(tmpdir(), 'oruel-models-'));
  });

  afterEach(async () => {
    await rm(modelsDir, { recursive: true, force: true });
  });

  const place = async (relativePath: string, bytes: number): Promise<string> => {
    const path = join(modelsDir, relativePath);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, Buffer.alloc(bytes));
    return path;
  };

  it('lists complete files with their hf: URI, apart from partial downloads', async () => {
    const small = await place('owner/repo/small.gguf', 2048);
    const pinned = await place('owner/repo@v2/dir/big.gguf', 3 * 1024 * 1024);
    const byHand = await place('copied.gguf', 10);
    const partial = await place('other/repo/half.gguf.part', 512);
    await place('owner/repo/README.md', 5);

    expect(await listLocalModels(modelsDir)).toEqual([
      { uri: byHand, path: byHand, bytes: 10 },
      { uri: 'hf:owner/repo/small.gguf', path: small, bytes: 2048 },
      { uri: 'hf:owner/repo@v2/dir/big.gguf', path: pinned, bytes: 3 * 1024 * 1024 },
    ]);
    expect(await listPartialDownloads(modelsDir)).toEqual([
      { uri: 'hf:other/repo/half.gguf', path: partial, bytes: 512 },
    ]);
  });

  it('lists nothing for a models directory that does not exist yet', async () => {
    await expect(listLocalModels(join(modelsDir, 'absent'))).resolves.toEqual([]);
  });

  it('prints a table of models and one of incomplete downloads', async () => {
    const small = await place('owner/repo/small.gguf', 2048);
    const partial = await place('other/repo/half.gguf.part', 1536);

    const report = await listModelsReport(modelsDir);

    expect(report).toBe(
      [
        'URI                           SIZE  PATH',
        `hf:owner/repo/small.gguf  2.00 KiB  ${small}`,
        '',
        'Incomplete downloads (pull the same URI again to resume):',
        'URI                      RECEIVED  PATH',
        `hf:other/repo/half.gguf  1.50 KiB  ${partial}`,
        '',
      ].join('\n'),
    );
  });

  it('says how to download a model when there is none', async () => {
    await expect(listModelsReport(modelsDir)).resolves.toBe(
      `No models downloaded in ${modelsDir}. Download one with: oruel models pull hf:OWNER/REPO/FILE.gguf\n`,
    );
  });
});
