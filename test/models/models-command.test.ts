import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { registerModelsCommand } from '../../src/cli/models.js';
import { startFixtureFileServer, type FixtureFileServer } from '../helpers/fixture-file-server.js';

const URI = 'hf:owner/repo/model.gguf';
const fileBytes = randomBytes(512 * 1024);
const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('oruel models pull | list', () => {
  let server: FixtureFileServer;
  let directory: string;
  let configFile: string;
  let stdout: string[];
  let stderr: string[];

  beforeEach(async () => {
    server = await startFixtureFileServer(
      { '/owner/repo/resolve/main/model.gguf': fileBytes },
      { redirect: true, requiredToken: 'hf_token' },
    );
    directory = await mkdtemp(join(tmpdir(), 'oruel-models-cli-'));
    configFile = join(directory, 'oruel.yaml');
    await writeFile(configFile, `modelsDir: ${join(directory, 'models')}\nhfEndpoint: ${server.url}\n`);
    stdout = [];
    stderr = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(
      (chunk: string | Uint8Array) => stdout.push(String(chunk)) > 0,
    );
    vi.spyOn(process.stderr, 'write').mockImplementation(
      (chunk: string | Uint8Array) => stderr.push(String(chunk)) > 0,
    );
  });

  afterEach(async () => {
    vi.restoreAllMocks();
    await server.close();
    await rm(directory, { recursive: true, force: true });
  });

  const run = async (args: string[], token?: string): Promise<void> => {
    const program = new Command('oruel').exitOverride();
    registerModelsCommand(program, { token });
    await program.parseAsync(args, { from: 'user' });
  };

  it('pull downloads with --token, prints only the local path on stdout, progress on stderr', async () => {
    await run(['models', 'pull', URI, '--config', configFile, '--token', 'hf_token']);

    const path = join(directory, 'models', 'owner', 'repo', 'model.gguf');
    expect(stdout).toEqual([`${path}\n`]);
    expect(stderr.join('')).toContain(`Downloading ${URI}: 100%`);
    // Said at once, before the server answers: a slow endpoint never leaves the command silent.
    expect(stderr[0]).toBe(`downloading ${URI} from ${server.url}/owner/repo/resolve/main/model.gguf\n`);
    expect(sha256(await readFile(path))).toBe(sha256(fileBytes));
  });

  it('pull uses the token the caller passes when --token is absent, and reuses the file next time', async () => {
    await run(['models', 'pull', URI, '--config', configFile], 'hf_token');
    server.requests.length = 0;
    stderr.length = 0;

    await run(['models', 'pull', URI, '--config', configFile], 'hf_token');

    expect(server.requests).toEqual([]);
    expect(stderr.join('')).toBe(`${URI} is already downloaded.\n`);
  });

  it('pull refuses a plain path', async () => {
    await expect(run(['models', 'pull', './model.gguf', '--config', configFile])).rejects.toThrow(/not an hf: URI/);
  });

  it('list shows the pulled model', async () => {
    await run(['models', 'pull', URI, '--config', configFile, '--token', 'hf_token']);
    stdout.length = 0;

    await run(['models', 'list', '--config', configFile]);

    expect(stdout.join('')).toMatch(
      new RegExp(`^URI +SIZE +PATH\\n${URI} +512 KiB +${join(directory, 'models', 'owner', 'repo', 'model.gguf')}\\n$`),
    );
  });
});
