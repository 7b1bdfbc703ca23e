import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';
import { dryRunInstall, lockEntriesOf, platformAllows, type Lockfile, type Platform } from './platform-check.js';

/** The platforms `npm ci` must succeed on, and the llama.cpp binary package node-llama-cpp brings for each. */
const PLATFORMS: Array<{ platform: Platform; binary: string | null }> = [
  { platform: { os: 'darwin', cpu: 'arm64' }, binary: '@node-llama-cpp/mac-arm64-metal' },
  { platform: { os: 'darwin', cpu: 'x64' }, binary: '@node-llama-cpp/mac-x64' },
  { platform: { os: 'win32', cpu: 'x64' }, binary: '@node-llama-cpp/win-x64' },
  { platform: { os: 'linux', cpu: 'arm64', libc: 'glibc' }, binary: '@node-llama-cpp/linux-arm64' },
  { platform: { os: 'linux', cpu: 'x64', libc: 'glibc' }, binary: '@node-llama-cpp/linux-x64' },
  // node-llama-cpp publishes no musl binary: npm ci succeeds and node-llama-cpp builds llama.cpp from source.
  { platform: { os: 'linux', cpu: 'x64', libc: 'musl' }, binary: null },
];

const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as Lockfile;
const llamaVersion = lock.packages['node_modules/node-llama-cpp']?.version;

describe('install on every common platform (npm ci --dry-run with --os/--cpu/--libc)', () => {
  it('requires no platform-specific package directly', () => {
    const root = lock.packages[''] as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const direct = { ...root.dependencies, ...root.devDependencies };
    const platformBound = Object.entries(direct).filter(([name, version]) =>
      lockEntriesOf(lock, name, version).some(
        (entry) => entry.os !== undefined || entry.cpu !== undefined || entry.libc !== undefined,
      ),
    );
    expect(platformBound).toEqual([]);
  });

  for (const { platform, binary } of PLATFORMS) {
    const label = [platform.os, platform.cpu, platform.libc].filter(Boolean).join('/');
    it(`npm ci on ${label} adds only packages the platform accepts${binary ? `, with ${binary}` : ''}`, async () => {
      const install = await dryRunInstall(REPO_ROOT, platform);
      expect(install.refused).toEqual([]);
      expect(install.added).toContain(`node-llama-cpp@${llamaVersion}`);
      const binaries = install.added.filter((entry) => entry.startsWith('@node-llama-cpp/'));
      if (binary === null) expect(binaries).toEqual([]);
      // The llama.cpp binary stays pinned to node-llama-cpp's own version.
      else expect(binaries).toContain(`${binary}@${llamaVersion}`);
    });
  }

  it('catches a required platform package (the check can fail)', async () => {
    const install = await dryRunInstall(REPO_ROOT, { os: 'darwin', cpu: 'arm64' }, (edited, pkg) => {
      const name = '@node-llama-cpp/linux-x64';
      const entry = edited.packages[`node_modules/${name}`];
      if (entry) delete entry.optional;
      (edited.packages[''] as { dependencies: Record<string, string> }).dependencies[name] = llamaVersion ?? '';
      (pkg.dependencies as Record<string, string>)[name] = llamaVersion ?? '';
    });
    expect(install.refused).toEqual([`@node-llama-cpp/linux-x64@${llamaVersion}`]);
  });

  it('reads os/cpu/libc as npm does', () => {
    expect(
      platformAllows({ os: ['linux'], cpu: ['x64'], libc: ['glibc'] }, { os: 'linux', cpu: 'x64', libc: 'musl' }),
    ).toBe(false);
    expect(
      platformAllows({ os: ['linux'], cpu: ['x64'], libc: ['glibc'] }, { os: 'linux', cpu: 'x64', libc: 'glibc' }),
    ).toBe(true);
    expect(platformAllows({ os: ['!win32'] }, { os: 'darwin', cpu: 'arm64' })).toBe(true);
    expect(platformAllows({ os: ['!win32'] }, { os: 'win32', cpu: 'x64' })).toBe(false);
    expect(platformAllows({ os: ['darwin'], libc: ['glibc'] }, { os: 'darwin', cpu: 'arm64' })).toBe(true);
  });
});
