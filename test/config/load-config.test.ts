import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { registerServeCommand } from '../../src/cli/serve.js';
import { defaultDataDir, defaultDatabaseUrl } from '../../src/config/data-dir.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const scratch = mkdtempSync(join(tmpdir(), 'oruel-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function writeConfig(relativeDir: string, yaml: string): string {
  const dir = join(scratch, relativeDir);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'oruel.yaml');
  writeFileSync(file, yaml);
  return file;
}

function configError(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('the default database', () => {
  it('lives in the per-user data directory, whatever the working directory', () => {
    const env = { XDG_DATA_HOME: '/home/u/.data', XDG_CACHE_HOME: '/home/u/.cache' };
    const before = loadConfig({}, env);
    const cwd = process.cwd();
    try {
      process.chdir(scratch);
      expect(loadConfig({}, env).database.url).toBe(before.database.url);
    } finally {
      process.chdir(cwd);
    }
    if (process.platform === 'linux') expect(before.database.url).toBe('sqlite:/home/u/.data/oruel/oruel.db');
  });

  it('follows each platform convention, and ORUEL_DATA_DIR overrides it', () => {
    expect(defaultDataDir({}, 'linux', '/home/u')).toBe('/home/u/.local/share/oruel');
    expect(defaultDataDir({ XDG_DATA_HOME: '/x' }, 'linux', '/home/u')).toBe('/x/oruel');
    expect(defaultDataDir({}, 'darwin', '/Users/u')).toBe('/Users/u/Library/Application Support/oruel');
    expect(defaultDataDir({ LOCALAPPDATA: 'C:/Users/u/AppData/Local' }, 'win32', 'C:/Users/u')).toBe(
      join('C:/Users/u/AppData/Local', 'oruel', 'Data'),
    );
    expect(defaultDatabaseUrl({ ORUEL_DATA_DIR: '/srv/oruel' }, 'linux', '/home/u')).toBe('sqlite:/srv/oruel/oruel.db');
  });

  it('ORUEL_DATABASE_URL and the config file still win', () => {
    expect(loadConfig({}, { ORUEL_DATABASE_URL: 'postgres://db/oruel' }).database.url).toBe('postgres://db/oruel');
  });

  it('with Postgres the ledger spills into the data directory, not ./data', () => {
    expect(
      loadConfig({}, { ORUEL_DATABASE_URL: 'postgres://db/oruel', ORUEL_DATA_DIR: '/srv/oruel' }).ledger.spillDir,
    ).toBe(join('/srv/oruel', 'ledger-spill'));
    expect(loadConfig({}, { ORUEL_DATA_DIR: '/srv/oruel' }).ledger.spillDir).toBeNull();
  });
});

describe('relative paths in a config file', () => {
  it('resolve from the file, not from the working directory', () => {
    const file = writeConfig(
      'conf',
      [
        'database: { url: "sqlite:data/oruel.db" }',
        'modelsDir: models',
        'ledger: { spillDir: spill }',
        'models:',
        '  - { name: local, engine: llama-cpp, path: ./weights/m.gguf }',
        '  - { name: remote, engine: llama-cpp, path: "hf:owner/repo/m.gguf" }',
        '  - name: mixed',
        '    engine: openai',
        '    embeddedDeployments: [{ engine: llama-cpp, path: ../w/e.gguf }]',
        '  - { name: absolute, engine: llama-cpp, path: /opt/m.gguf }',
      ].join('\n'),
    );
    const dir = join(scratch, 'conf');
    const config = loadConfig({ configFile: file }, {});
    expect(config.database.url).toBe(`sqlite:${join(dir, 'data/oruel.db')}`);
    expect(config.modelsDir).toBe(join(dir, 'models'));
    expect(config.ledger.spillDir).toBe(join(dir, 'spill'));
    const paths = config.models.map((model) =>
      model.engine === 'llama-cpp' ? model.path : model.embeddedDeployments[0]?.path,
    );
    expect(paths).toEqual([
      join(dir, 'weights/m.gguf'),
      'hf:owner/repo/m.gguf',
      join(scratch, 'w/e.gguf'),
      '/opt/m.gguf',
    ]);
  });

  it('sqlite::memory: stays in memory', () => {
    const file = writeConfig('memory', 'database: { url: "sqlite::memory:" }\n');
    expect(loadConfig({ configFile: file }, {}).database.url).toBe('sqlite::memory:');
  });
});

describe('readable validation messages', () => {
  it('a model without engine names the model and the values that fit', () => {
    const file = writeConfig(
      'no-engine',
      'models:\n  - { name: qwen, path: /m.gguf }\n  - { name: other, engine: vllm, path: /m.gguf }\n',
    );
    const message = configError(() => loadConfig({ configFile: file }, {}));
    expect(message).toContain('models[0] ("qwen").engine: missing; set it to "llama-cpp" or "openai"');
    expect(message).toContain('models[1] ("other").engine: "vllm" is not one of "llama-cpp" or "openai"');
    expect(message).not.toMatch(/discriminator/i);
  });

  it('a wrong type says what was expected and what came', () => {
    const file = writeConfig(
      'types',
      'server: { port: "http" }\nmodels:\n  - { name: m, engine: llama-cpp, path: /m.gguf, sequences: many }\n',
    );
    const message = configError(() => loadConfig({ configFile: file }, {}));
    expect(message).toContain('server.port: expected a number, got "http"');
    expect(message).toContain('models[0] ("m").sequences: expected a number, got "many"');
  });

  it('an unknown key is named', () => {
    const file = writeConfig('unknown', 'sever: { port: 1 }\n');
    expect(configError(() => loadConfig({ configFile: file }, {}))).toContain('(top level): unknown key "sever"');
  });
});

describe('--model', () => {
  it('given twice serves both models', () => {
    const config = loadConfig({ model: ['/m/a.gguf', '/m/b.gguf'] }, {});
    expect(config.models.map((model) => model.name)).toEqual(['a', 'b']);
  });

  it('--model-name with two --model is an error, not a silent pick', () => {
    expect(configError(() => loadConfig({ model: ['/m/a.gguf', '/m/b.gguf'], modelName: 'x' }, {}))).toMatch(
      /--model-name names one --model, but 2 were given/,
    );
  });
});

describe('serve flags', () => {
  async function serveError(args: string[]): Promise<string> {
    const program = new Command('oruel').exitOverride();
    registerServeCommand(program);
    const error = await program.parseAsync(['node', 'oruel', 'serve', ...args]).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }

  it('--port abc names the flag', async () => {
    expect(await serveError(['--port', 'abc'])).toBe('--port must be a whole number from 0 to 65535, got "abc".');
    expect(await serveError(['--port', '70000'])).toBe('--port must be a whole number from 0 to 65535, got "70000".');
    expect(await serveError(['--threads', '0'])).toBe('--threads must be a whole number of at least 1, got "0".');
    expect(await serveError(['--sequences', '1.5'])).toBe(
      '--sequences must be a whole number from 1 to 64, got "1.5".',
    );
  });
});
