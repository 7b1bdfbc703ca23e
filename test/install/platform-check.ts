import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A platform as npm's `--os`, `--cpu` and `--libc` options name it. */
export interface Platform {
  os: string;
  cpu: string;
  libc?: 'glibc' | 'musl';
}

/** The fields of a package-lock entry npm's platform check reads. */
export interface LockEntry {
  version?: string;
  optional?: boolean;
  dev?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

export interface Lockfile {
  packages: Record<string, LockEntry & { dependencies?: Record<string, string> }>;
}

/** npm's rule (npm-install-checks): a list allows a value it names, or anything but what it negates with `!`. */
function listAllows(list: string[] | undefined, value: string | undefined): boolean {
  if (list === undefined || list.length === 0) return true;
  if (value === undefined) return list.every((entry) => entry.startsWith('!'));
  if (list.includes(`!${value}`)) return false;
  const positives = list.filter((entry) => !entry.startsWith('!'));
  return positives.length === 0 || positives.includes(value);
}

/** True when npm would install this package on the platform; libc only counts on Linux, as in npm. */
export function platformAllows(entry: LockEntry, platform: Platform): boolean {
  const libc = platform.os === 'linux' ? platform.libc : undefined;
  return (
    listAllows(entry.os, platform.os) &&
    listAllows(entry.cpu, platform.cpu) &&
    (platform.os !== 'linux' || entry.libc === undefined || listAllows(entry.libc, libc))
  );
}

/** The lock entries of a package name at a version (a name can sit at several paths). */
export function lockEntriesOf(lock: Lockfile, name: string, version: string): LockEntry[] {
  return Object.entries(lock.packages)
    .filter(
      ([path, entry]) =>
        (path === `node_modules/${name}` || path.endsWith(`/node_modules/${name}`)) && entry.version === version,
    )
    .map(([, entry]) => entry);
}

export interface PlatformInstall {
  /** Every `name@version` npm ci would add on the platform. */
  added: string[];
  /** Added packages whose os/cpu/libc exclude the platform: npm stops with EBADPLATFORM on the real machine. */
  refused: string[];
}

/**
 * `npm ci --dry-run` for another platform, in a scratch copy of package.json and the lockfile.
 * npm's dry run skips its own platform check for required packages (it checks them against the
 * machine it runs on, not against `--os`/`--cpu`), so each added package is checked here by npm's rule.
 */
export async function dryRunInstall(
  projectDir: string,
  platform: Platform,
  edit?: (lock: Lockfile, pkg: Record<string, unknown>) => void,
): Promise<PlatformInstall> {
  const scratch = await mkdtemp(join(tmpdir(), 'oruel-platform-'));
  try {
    await copyFile(join(projectDir, 'package.json'), join(scratch, 'package.json'));
    await copyFile(join(projectDir, 'package-lock.json'), join(scratch, 'package-lock.json'));
    const lock = JSON.parse(await readFile(join(scratch, 'package-lock.json'), 'utf8')) as Lockfile;
    if (edit) {
      const pkg = JSON.parse(await readFile(join(scratch, 'package.json'), 'utf8')) as Record<string, unknown>;
      edit(lock, pkg);
      await writeFile(join(scratch, 'package.json'), JSON.stringify(pkg, null, 2));
      await writeFile(join(scratch, 'package-lock.json'), JSON.stringify(lock, null, 2));
    }
    const args = [
      'ci',
      '--dry-run',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--offline',
      `--os=${platform.os}`,
      `--cpu=${platform.cpu}`,
    ];
    if (platform.libc) args.push(`--libc=${platform.libc}`);
    const { stdout } = await run('npm', args, {
      cwd: scratch,
      env: { ...process.env, NODE_LLAMA_CPP_SKIP_DOWNLOAD: 'true' },
      maxBuffer: 16 * 1024 * 1024,
    });
    const added: string[] = [];
    const refused: string[] = [];
    for (const match of stdout.matchAll(/^add (\S+) (\S+)$/gm)) {
      const [, name, version] = match as unknown as [string, string, string];
      added.push(`${name}@${version}`);
      const entries = lockEntriesOf(lock, name, version);
      if (entries.length > 0 && entries.every((entry) => !platformAllows(entry, platform)))
        refused.push(`${name}@${version}`);
    }
    return { added, refused };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
