import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/paths.js';
import { spawnCli } from '../storage/test-cli.js';

describe('oruel --version', () => {
  it('prints the package version and exits 0', async () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await spawnCli([flag], 'sqlite::memory:');
      expect(result).toEqual({ stdout: `${version}\n`, stderr: '', code: 0 });
    }
  });
});
