import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OperatorError } from '../../src/errors/operator-error.js';
import { resolveModelPath } from '../../src/models/resolve-model.js';
import { closedPortUrl, startFixtureFileServer, type FixtureFileServer } from '../helpers/fixture-file-server.js';

const URI = 'hf:owner/repo/sub/model.gguf';
const fileBytes = randomBytes(256 * 1024);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('resolveModelPath', () => {
  let server: FixtureFileServer;
  let directory: string;
  let modelsDir: string;

  beforeEach(async () => {
    server = await startFixtureFileServer({ '/owner/repo/resolve/main/sub/model.gguf': fileBytes }, { redirect: true });
    directory = await mkdtemp(join(tmpdir(), 'oruel-resolve-'));
    modelsDir = join(directory, 'models');
  });

  afterEach(async () => {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('downloads an hf: URI into modelsDir/owner/repo/path', async () => {
    const path = await resolveModelPath(URI, { modelsDir, hfEndpoint: server.url });

    expect(path).toBe(join(modelsDir, 'owner', 'repo', 'sub', 'model.gguf'));
    expect(sha256(await readFile(path))).toBe(sha256(fileBytes));
  });

  it('reuses a finished download without any request', async () => {
    const first = await resolveModelPath(URI, { modelsDir, hfEndpoint: server.url });
    server.requests.length = 0;

    const second = await resolveModelPath(URI, { modelsDir, hfEndpoint: await closedPortUrl() });

    expect(second).toBe(first);
    expect(server.requests).toEqual([]);
  });

  it('returns an existing file path as an absolute path', async () => {
    const file = join(directory, 'local.gguf');
    await writeFile(file, fileBytes);

    await expect(resolveModelPath(relative(process.cwd(), file), { modelsDir, hfEndpoint: server.url })).resolves.toBe(
      file,
    );
  });

  it('says which file is missing', async () => {
    const missing = join(directory, 'nope.gguf');
    const failure = resolveModelPath(missing, { modelsDir, hfEndpoint: server.url });
    await expect(failure).rejects.toThrow(OperatorError);
    await expect(failure).rejects.toThrow(`model file not found: ${missing}`);
  });

  it('refuses a directory as a model file', async () => {
    await mkdir(join(directory, 'dir.gguf'));
    await expect(resolveModelPath(join(directory, 'dir.gguf'), { modelsDir, hfEndpoint: server.url })).rejects.toThrow(
      /not a file/,
    );
  });

  it('refuses a malformed hf: URI before any request', async () => {
    await expect(
      resolveModelPath('hf:owner/repo/../escape.gguf', { modelsDir, hfEndpoint: server.url }),
    ).rejects.toThrow(/Malformed model URI/);
    expect(server.requests).toEqual([]);
  });

  it('refuses URLs other than hf:', async () => {
    await expect(
      resolveModelPath('https://example.com/model.gguf', { modelsDir, hfEndpoint: server.url }),
    ).rejects.toThrow(/Unsupported model location/);
  });

  it('explains a missing file on the server with the URI', async () => {
    await expect(resolveModelPath('hf:owner/repo/other.gguf', { modelsDir, hfEndpoint: server.url })).rejects.toThrow(
      /Cannot download hf:owner\/repo\/other\.gguf .*HTTP 404/,
    );
  });

  it('tells how to go without the network when the endpoint is unreachable', async () => {
    const failure = resolveModelPath(URI, { modelsDir, hfEndpoint: await closedPortUrl() });
    await expect(failure).rejects.toThrow(/ECONNREFUSED.*--model \.\/path\/to\/model\.gguf/);
  });
});
