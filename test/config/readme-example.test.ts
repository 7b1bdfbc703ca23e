import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { configSchema } from '../../src/config/schema.js';
import { REPO_ROOT } from '../helpers/paths.js';

/** The README's YAML examples are configurations the server accepts, and the first one names every section. */
const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const yamlBlocks = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map((match) => match[1]!);

describe('README YAML examples', () => {
  it('there are some', () => expect(yamlBlocks.length).toBeGreaterThanOrEqual(2));

  for (const [index, block] of yamlBlocks.entries()) {
    it(`example ${index + 1} loads`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'oruel-readme-'));
      try {
        const file = join(dir, 'oruel.yaml');
        writeFileSync(file, block);
        expect(() => loadConfig({ configFile: file }, { EXAMPLE_API_KEY: 'sk-example' })).not.toThrow();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  it('the full example has every top-level section of the schema', () => {
    const full = yamlBlocks.find((block) => block.startsWith('# oruel.yaml')) ?? '';
    const sections = Object.keys(configSchema.shape);
    const missing = sections.filter((section) => !new RegExp(`^${section}:`, 'm').test(full));
    expect(missing).toEqual([]);
  });
});
