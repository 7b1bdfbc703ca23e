import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FIXTURES_DIR } from './paths.js';

/** sha256 of each fixture, as test/fixtures/README.md lists them (for the .gz file: of its content). */
const EXPECTED: Record<string, string> = {
  'models/stories260K.gguf': '270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d',
  'models/stories260K-chatml-tools.gguf': 'fa228b12ae879737a45e582f7b701e30f21fd0ee928b02edd3dc95517e80394b',
  'models/llama-2-tiny-random.gguf': '81f226c62d28ed4a1a9b9fa080fcd9f0cc40e0f9d5680036583ff98fbcd035cb',
  'models/chatml-tools.jinja': 'cbfd8830f08f253b0ddda19bb17aa8770b394b0ffd25a24fbd79b20b1937560b',
  'seed/streaming.txt': '5becf7c2617e4542dda9f3ea2654be49fe82cac7441f9b163587a7c5f35feee4',
  'spec/openai-openapi.yaml.gz': 'db5d7478feae10b4d331834c60d9765a8aa042e38419f9b1694288c11aa8ebc8',
};

/** The fixtures' problems, one line each; empty when every file is present and unchanged. */
export function fixtureProblems(): string[] {
  const problems: string[] = [];
  for (const [name, expected] of Object.entries(EXPECTED)) {
    const path = resolve(FIXTURES_DIR, name);
    if (!existsSync(path)) {
      problems.push(`missing test fixture ${path} (see test/fixtures/README.md)`);
      continue;
    }
    const bytes = name.endsWith('.gz') ? gunzipSync(readFileSync(path)) : readFileSync(path);
    const actual = createHash('sha256').update(bytes).digest('hex');
    if (actual !== expected) problems.push(`test fixture ${path} has sha256 ${actual}, expected ${expected}`);
  }
  return problems;
}

/** vitest globalSetup: stop before any test when a fixture is missing or changed. */
export default function checkFixtures(): void {
  const problems = fixtureProblems();
  if (problems.length > 0) throw new Error(problems.join('\n'));
}
