import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/oruel.js', import.meta.url));
const SETTLE_MS = 1_000;

/**
 * Resident memory of `oruel serve` as an operator runs it (the compiled CLI, no tsx), with a
 * gateway-only config (one upstream model, SQLite ledger), idle after start. Null when the build
 * (dist/) is missing or the server does not start.
 */
export async function gatewayOnlyIdleRssMiB(upstreamUrl: string): Promise<number | null> {
  const dir = mkdtempSync(join(tmpdir(), 'oruel-idle-rss-'));
  const config = join(dir, 'oruel.yaml');
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: 0, logLevel: info }\nmodels:\n  - { name: gw, engine: openai, deployments: [{ url: "${upstreamUrl}", model: bench-upstream }] }\n`,
  );
  const child = spawn(process.execPath, [BIN, 'serve', '--config', config], {
    env: {
      ...process.env,
      ORUEL_DATABASE_URL: `sqlite:${join(dir, 'oruel.db')}`,
      ORUEL_MODELS_DIR: join(dir, 'models'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const ready = await new Promise<boolean>((resolve) => {
      let output = '';
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('"ready"') || output.includes(' ready')) resolve(true);
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('exit', () => resolve(false));
      setTimeout(() => resolve(false), 30_000).unref();
    });
    if (!ready || child.pid === undefined) return null;
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return Number.isFinite(kib) ? kib / 1024 : null;
  } catch {
    return null;
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
