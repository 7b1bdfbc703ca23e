import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { REPO_ROOT } from './paths.js';

/** The openai-python release the suite runs, pinned in one place (`npm run setup:python` installs it). */
const PYTHON_REQUIREMENTS = resolve(REPO_ROOT, 'test/clients/python-requirements.txt');

function pinnedOpenAiPythonVersion(): string {
  const pin = /^openai==(\S+)$/m.exec(readFileSync(PYTHON_REQUIREMENTS, 'utf8'));
  if (!pin?.[1]) throw new Error(`${PYTHON_REQUIREMENTS} does not pin openai==VERSION`);
  return pin[1];
}

/** ORUEL_TEST_PYTHON when set, else the repository's `.venv` (created by `npm run setup:python`). */
function pythonExecutable(): string {
  return process.env.ORUEL_TEST_PYTHON || resolve(REPO_ROOT, '.venv/bin/python');
}

export interface PythonRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `source` as its own Python process (`python -`, the program on stdin). Killed after `timeoutMs`
 * so a stream that never ends fails the test instead of hanging it. Proxies are bypassed for loopback:
 * httpx honours HTTP(S)_PROXY, and the servers under test are on 127.0.0.1.
 */
export function runPython(source: string, { timeoutMs = 90_000 } = {}): Promise<PythonRun> {
  const env = {
    ...process.env,
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    PYTHONIOENCODING: 'utf-8',
  };
  const child = spawn(pythonExecutable(), ['-'], { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolvePromise, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
    child.stdin.end(source);
  });
}

/**
 * Fails (never skips) when Python or the pinned openai package is missing, with one line saying how to
 * get it. Returns the installed openai-python version.
 */
export async function requireOpenAiPython(): Promise<string> {
  const python = pythonExecutable();
  const pinned = pinnedOpenAiPythonVersion();
  const fix = `run \`npm run setup:python\` (python3 -m venv .venv && .venv/bin/pip install -r test/clients/python-requirements.txt) or set ORUEL_TEST_PYTHON to a python with openai==${pinned}`;
  if (!existsSync(python)) throw new Error(`Python for the client tests not found at ${python}: ${fix}`);
  const run = await runPython('import openai; print(openai.__version__)', { timeoutMs: 30_000 });
  const version = run.stdout.trim();
  if (run.code !== 0)
    throw new Error(
      `${python} cannot import openai (${run.stderr.trim().split('\n').at(-1) ?? 'no error text'}): ${fix}`,
    );
  if (version !== pinned) throw new Error(`${python} has openai ${version}, the tests pin ${pinned}: ${fix}`);
  return version;
}
