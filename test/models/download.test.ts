import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OperatorError } from '../../src/errors/operator-error.js';
import { downloadFile } from '../../src/models/download.js';
import { closedPortUrl, startFixtureFileServer, type FixtureFileServer } from '../helpers/fixture-file-server.js';

const FILE_PATH = '/owner/repo/resolve/main/model.gguf';
const fileBytes = randomBytes(3 * 1024 * 1024);

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('downloadFile', () => {
  let server: FixtureFileServer;
  let directory: string;
  let destination: string;
  let url: string;

  beforeEach(async () => {
    server = await startFixtureFileServer({ [FILE_PATH]: fileBytes }, { redirect: true });
    directory = await mkdtemp(join(tmpdir(), 'oruel-download-'));
    destination = join(directory, 'nested', 'model.gguf');
    url = `${server.url}${FILE_PATH}`;
  });

  afterEach(async () => {
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  const writePart = async (bytes: Buffer): Promise<void> => {
    await mkdir(dirname(destination), { recursive: true });
    await writeFile(`${destination}.part`, bytes);
  };

  const gets = (): FixtureFileServer['requests'] => server.requests.filter((request) => request.method === 'GET');

  it('follows the redirect, writes the whole file and reports progress up to the total', async () => {
    const progress: Array<[number, number | null]> = [];
    await downloadFile({ url, destination, onProgress: (bytes, total) => progress.push([bytes, total]) });

    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
    await expect(stat(`${destination}.part`)).rejects.toThrow(/ENOENT/);
    expect(server.requests.map((request) => request.path)).toEqual([FILE_PATH, `/cdn${FILE_PATH}`]);
    expect(progress.at(-1)).toEqual([fileBytes.length, fileBytes.length]);
  });

  it('resumes at once with a Range request when the connection is cut halfway', async () => {
    server.behaviour.cutResponses = 1;
    await downloadFile({ url, destination });

    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
    const [first, second] = gets().filter((request) => request.path.startsWith('/cdn'));
    expect(first?.range).toBeUndefined();
    expect(second?.range).toMatch(/^bytes=\d+-$/);
    expect(Number(second?.range?.slice('bytes='.length, -1))).toBeGreaterThan(0);
  });

  it('keeps the .part after an interruption and resumes it on the next call', async () => {
    server.behaviour.cutResponses = 1;
    const failure = downloadFile({ url, destination, maxResumes: 0 });
    await expect(failure).rejects.toThrow(OperatorError);
    await expect(failure).rejects.toThrow(/interrupted.*run the same command again to resume/);
    const partBytes = (await stat(`${destination}.part`)).size;
    expect(partBytes).toBeGreaterThan(0);
    expect(partBytes).toBeLessThan(fileBytes.length);

    server.requests.length = 0;
    await downloadFile({ url, destination });

    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
    expect(gets().map((request) => request.range)).toEqual([`bytes=${partBytes}-`, `bytes=${partBytes}-`]);
  });

  it('starts over when the server ignores Range and sends the whole file (200)', async () => {
    // A .part of the right length but wrong bytes: only a restart from zero gives the right file.
    await writePart(randomBytes(fileBytes.length / 2));
    server.behaviour.ignoreRange = true;

    await downloadFile({ url, destination });

    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
    const cdnRequests = gets().filter((request) => request.path.startsWith('/cdn'));
    expect(cdnRequests.map((request) => request.range)).toEqual([`bytes=${fileBytes.length / 2}-`]);
  });

  it('finishes a .part that is already complete when the server answers 416', async () => {
    await writePart(fileBytes);
    await downloadFile({ url, destination });

    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
    expect(gets().at(-1)?.range).toBe(`bytes=${fileBytes.length}-`);
  });

  it('starts over when the .part is longer than the remote file', async () => {
    await writePart(Buffer.concat([fileBytes, randomBytes(10)]));
    await downloadFile({ url, destination });

    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
  });

  it('names the URI and explains a 404', async () => {
    const failure = downloadFile({
      url: `${server.url}/owner/repo/resolve/main/missing.gguf`,
      destination,
      label: 'hf:owner/repo/missing.gguf',
    });
    await expect(failure).rejects.toThrow(OperatorError);
    await expect(failure).rejects.toThrow(
      /Cannot download hf:owner\/repo\/missing\.gguf .*HTTP 404.*check the owner, repository, revision and file path/,
    );
  });

  it('sends the token as a bearer token, and explains a 401 without one', async () => {
    server.behaviour.requiredToken = 'hf_secret';
    await expect(downloadFile({ url, destination, label: 'hf:owner/repo/model.gguf' })).rejects.toThrow(
      /HTTP 401.*needs an access token/,
    );

    await downloadFile({ url, destination, token: 'hf_secret' });
    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
    expect(server.requests.at(-2)?.authorization).toBe('Bearer hf_secret');
  });

  it('explains a refused connection and how to use a local file instead', async () => {
    const unreachable = `${await closedPortUrl()}${FILE_PATH}`;
    const failure = downloadFile({ url: unreachable, destination });
    await expect(failure).rejects.toThrow(OperatorError);
    await expect(failure).rejects.toThrow(`Download of ${unreachable} failed: connection refused (ECONNREFUSED).`);
    await expect(failure).rejects.toThrow(/--model \.\/path\/to\/model\.gguf.*ORUEL_HF_ENDPOINT/);
  });

  it('stops on abort, keeping the .part, which the next call completes', async () => {
    const controller = new AbortController();
    const failure = downloadFile({
      url,
      destination,
      signal: controller.signal,
      onProgress: (bytes) => {
        if (bytes > fileBytes.length / 2) controller.abort();
      },
    });
    await expect(failure).rejects.toThrow(/abort/i);
    await expect(stat(destination)).rejects.toThrow(/ENOENT/);
    expect((await stat(`${destination}.part`)).size).toBeLessThan(fileBytes.length);

    await downloadFile({ url, destination });
    expect(sha256(await readFile(destination))).toBe(sha256(fileBytes));
  });
});

describe('an endpoint that never answers', () => {
  it("fails after the timeout with a message that says so, not after undici's 300 s", async () => {
    const { createServer } = await import('node:http');
    // Accepts the connection and reads the request, then stays silent.
    const silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as { port: number };
    const directory = await mkdtemp(join(tmpdir(), 'oruel-download-silent-'));
    try {
      const started = performance.now();
      const error = await downloadFile({
        url: `http://127.0.0.1:${port}/model.gguf`,
        destination: join(directory, 'model.gguf'),
        timeoutMs: 300,
      }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(OperatorError);
      expect((error as Error).message).toMatch(
        /failed: timed out waiting for the response .*\(no answer within 300 ms\)\. /,
      );
      // Bounded by the timeout, not by the 300 s default (generous for a loaded machine).
      expect(performance.now() - started).toBeLessThan(20_000);
    } finally {
      silent.closeAllConnections();
      silent.close();
      await rm(directory, { recursive: true, force: true });
    }
  });
});
