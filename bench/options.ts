import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_MODEL = resolve(REPO_ROOT, 'test/fixtures/models/stories260K.gguf');

export interface BenchOptions {
  modelPath: string;
  /** Completion tokens per request (forced: every request must produce exactly this many). */
  tokens: number;
  /** Measured rounds per phase (after one warm-up). */
  rounds: number;
  threads: number;
  /** Context sequences on both sides; also the concurrency of the K-stream phase. */
  sequences: number;
  /** Tokens per sequence; 0 = what the server does by default (the model's trained context, capped at 4096). */
  contextSize: number;
  /** When set, the server process writes a V8 CPU profile here (`node --cpu-prof`). */
  cpuProfDir: string | null;
}

export const USAGE = `npm run bench:embedded -- [--model PATH] [--tokens N] [--rounds N] [--threads N] [--sequences K] [--context N] [--cpu-prof-dir DIR]

  --model PATH        GGUF file (default: test/fixtures/models/stories260K.gguf from the repo root)
  --tokens N          completion tokens per request, forced on both sides (default 256)
  --rounds N          measured rounds per phase (default 5)
  --threads N         llama.cpp threads on both sides (default 1)
  --sequences K       context sequences on both sides, and concurrent streams in phase 3 (default 2)
  --context N         tokens per sequence on both sides (default 0: the server's default, trained size capped at 4096)
  --cpu-prof-dir DIR  write a V8 CPU profile of the server process into DIR`;

export function parseBenchOptions(argv: readonly string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      model: { type: 'string' },
      tokens: { type: 'string' },
      rounds: { type: 'string' },
      threads: { type: 'string' },
      sequences: { type: 'string' },
      context: { type: 'string' },
      'cpu-prof-dir': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  return {
    // A path given on the command line is relative to where the command runs (npm runs it in the repo root).
    modelPath: values.model ? resolve(values.model) : DEFAULT_MODEL,
    tokens: positiveInt('tokens', values.tokens, 256),
    rounds: positiveInt('rounds', values.rounds, 5),
    threads: positiveInt('threads', values.threads, 1),
    sequences: positiveInt('sequences', values.sequences, 2),
    contextSize: nonNegativeInt('context', values.context, 0),
    cpuProfDir: values['cpu-prof-dir'] ? resolve(values['cpu-prof-dir']) : null,
  };
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  const value = nonNegativeInt(name, text, fallback);
  if (value < 1) throw new Error(`--${name} must be at least 1`);
  return value;
}

function nonNegativeInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number, got "${text}"`);
  return value;
}
