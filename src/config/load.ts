import { readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { defaultCacheDir, defaultDatabaseUrl, defaultDataDir } from './data-dir.js';
import { OperatorError } from '../errors/index.js';
import { configSchema, type Config } from './schema.js';

/** A configuration the server cannot start with; its message is meant for the operator, as is. */
export class ConfigError extends OperatorError {}

/** What the command line may set; each field wins over the file and the environment. */
export interface ConfigOverrides {
  configFile?: string;
  host?: string;
  port?: number;
  /** `--model`, once or several times: each adds an embedded model. */
  model?: string | string[];
  modelName?: string;
  auth?: boolean;
  threads?: number;
  sequences?: number;
  logFormat?: string;
}

type Env = Record<string, string | undefined>;

/** Reads the YAML file, the environment and the overrides into one validated Config. */
export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): Config {
  const file = overrides.configFile ?? env.ORUEL_CONFIG;
  const raw: Record<string, unknown> = file ? resolveRelativePaths(readYamlFile(file), dirname(resolve(file))) : {};
  const merged = mergeEnvironment(raw, env);
  applyOverrides(merged, overrides);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration${file ? ` in ${file}` : ''}:\n${formatIssues(parsed.error, merged)}`);
  }
  return resolveSecrets(parsed.data, env);
}

/** The model name `--model` gets when `--model-name` is absent: the file name without `.gguf`. */
function modelNameFromPath(path: string): string {
  return basename(path.replace(/^hf:/, '')).replace(/\.gguf$/i, '');
}

function defaultModelsDir(env: Env): string {
  return join(defaultCacheDir(env), 'models');
}

/**
 * Paths in a config file mean what they say where the file is, not where the command runs: relative
 * model `path`s, `modelsDir`, `ledger.spillDir` and a relative `sqlite:` database resolve from the
 * file's directory. (Flags and environment variables stay relative to the working directory.)
 */
function resolveRelativePaths(raw: Record<string, unknown>, base: string): Record<string, unknown> {
  const fromBase = (value: unknown) =>
    typeof value === 'string' && value !== '' && !isAbsolute(value) ? resolve(base, value) : value;
  const modelPath = (value: unknown) =>
    typeof value === 'string' && value.startsWith('hf:') ? value : fromBase(value);
  const withPath = (entry: unknown) =>
    isRecord(entry) && 'path' in entry ? { ...entry, path: modelPath(entry.path) } : entry;
  const resolved = { ...raw };
  if (Array.isArray(raw.models)) {
    resolved.models = raw.models.map((model) => {
      const withOwnPath = withPath(model);
      if (!isRecord(withOwnPath) || !Array.isArray(withOwnPath.embeddedDeployments)) return withOwnPath;
      return { ...withOwnPath, embeddedDeployments: withOwnPath.embeddedDeployments.map(withPath) };
    });
  }
  if ('modelsDir' in raw) resolved.modelsDir = fromBase(raw.modelsDir);
  if (isRecord(raw.ledger) && typeof raw.ledger.spillDir === 'string')
    resolved.ledger = { ...raw.ledger, spillDir: fromBase(raw.ledger.spillDir) };
  if (isRecord(raw.database) && typeof raw.database.url === 'string') {
    const sqlite = /^sqlite:(.+)$/i.exec(raw.database.url.trim());
    if (sqlite && sqlite[1] !== ':memory:')
      resolved.database = { ...raw.database, url: `sqlite:${String(fromBase(sqlite[1]))}` };
  }
  return resolved;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readYamlFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read config file ${file}: ${(error as Error).message}`);
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`Config file ${file} is not valid YAML: ${(error as Error).message}`);
  }
  if (value === null || value === undefined) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(`Config file ${file} must be a YAML mapping at the top level.`);
  return value as Record<string, unknown>;
}

function section(target: Record<string, unknown>, name: string): Record<string, unknown> {
  const existing = target[name];
  if (existing && typeof existing === 'object' && !Array.isArray(existing)) return existing as Record<string, unknown>;
  const created: Record<string, unknown> = {};
  target[name] = created;
  return created;
}

function integerFromEnv(env: Env, name: string): number | undefined {
  const value = env[name];
  if (value === undefined || value === '') return undefined;
  const number = Number(value);
  if (!Number.isInteger(number)) throw new ConfigError(`${name} must be a whole number, got "${value}".`);
  return number;
}

function booleanFromEnv(env: Env, name: string): boolean {
  const value = (env[name] ?? '').toLowerCase();
  if (['1', 'true', 'on', 'yes'].includes(value)) return true;
  if (['0', 'false', 'off', 'no'].includes(value)) return false;
  throw new ConfigError(`${name} must be on or off, got "${env[name]}".`);
}

function mergeEnvironment(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const merged = structuredClone(raw);
  const server = section(merged, 'server');
  if (env.ORUEL_HOST) server.host = env.ORUEL_HOST;
  const port = integerFromEnv(env, 'ORUEL_PORT');
  if (port !== undefined) server.port = port;
  if (env.ORUEL_LOG_LEVEL) server.logLevel = env.ORUEL_LOG_LEVEL;
  if (env.ORUEL_LOG_FORMAT) server.logFormat = env.ORUEL_LOG_FORMAT;
  if (env.ORUEL_METRICS) section(merged, 'metrics').enabled = booleanFromEnv(env, 'ORUEL_METRICS');
  const metricsPort = integerFromEnv(env, 'ORUEL_METRICS_PORT');
  if (metricsPort !== undefined) section(merged, 'metrics').port = metricsPort;
  if (env.ORUEL_DATABASE_URL) section(merged, 'database').url = env.ORUEL_DATABASE_URL;
  // One database per user, whatever the working directory: `cd elsewhere && oruel keys create` finds it.
  section(merged, 'database').url ??= defaultDatabaseUrl(env);
  // SQLite keeps its spill beside the file; with Postgres the default is the data directory, not ./data.
  const databaseUrl = section(merged, 'database').url;
  if (typeof databaseUrl === 'string' && /^postgres(ql)?:/i.test(databaseUrl.trim()))
    section(merged, 'ledger').spillDir ??= join(defaultDataDir(env), 'ledger-spill');
  if (env.ORUEL_REDIS_URL) section(merged, 'redis').url = env.ORUEL_REDIS_URL;
  if (env.ORUEL_ADMIN_TOKEN) section(merged, 'admin').token = env.ORUEL_ADMIN_TOKEN;
  if (env.ORUEL_MODELS_DIR) merged.modelsDir = env.ORUEL_MODELS_DIR;
  merged.modelsDir ??= defaultModelsDir(env);
  if (env.ORUEL_HF_ENDPOINT) merged.hfEndpoint = env.ORUEL_HF_ENDPOINT;
  if (env.HF_TOKEN) merged.hfToken = env.HF_TOKEN;
  const threads = integerFromEnv(env, 'ORUEL_THREADS');
  if (threads !== undefined) merged.threads = threads;
  return merged;
}

function applyOverrides(merged: Record<string, unknown>, overrides: ConfigOverrides): void {
  const server = section(merged, 'server');
  if (overrides.host !== undefined) server.host = overrides.host;
  if (overrides.port !== undefined) server.port = overrides.port;
  if (overrides.auth !== undefined) server.auth = overrides.auth;
  if (overrides.logFormat !== undefined) server.logFormat = overrides.logFormat;
  if (overrides.threads !== undefined) merged.threads = overrides.threads;
  const paths = overrides.model === undefined ? [] : [overrides.model].flat();
  if (overrides.modelName !== undefined && paths.length !== 1) {
    throw new ConfigError(
      paths.length === 0
        ? '--model-name names the model given with --model; --model is missing.'
        : `--model-name names one --model, but ${paths.length} were given; name several models in a config file.`,
    );
  }
  const models = Array.isArray(merged.models) ? merged.models : [];
  for (const path of paths) {
    const model: Record<string, unknown> = {
      name: overrides.modelName ?? modelNameFromPath(path),
      engine: 'llama-cpp',
      path,
    };
    if (overrides.sequences !== undefined) model.sequences = overrides.sequences;
    models.push(model);
  }
  if (paths.length > 0) merged.models = models;
}

/** `apiKey: env:NAME` keeps secrets out of config files. */
function resolveSecrets(config: Config, env: Env): Config {
  for (const model of config.models) {
    if (model.engine !== 'openai') continue;
    for (const deployment of model.deployments) {
      const match = deployment.apiKey?.match(/^env:(\w+)$/);
      if (!match) continue;
      const value = env[match[1]!];
      if (!value)
        throw new ConfigError(`Model "${model.name}": environment variable ${match[1]} (its apiKey) is not set.`);
      deployment.apiKey = value;
    }
  }
  if (config.metrics.requireAdminToken && config.admin.token === null) {
    throw new ConfigError(
      'metrics.requireAdminToken is set, but no admin token is configured (ORUEL_ADMIN_TOKEN or admin.token).',
    );
  }
  const names = new Set<string>();
  for (const model of config.models) {
    if (names.has(model.name))
      throw new ConfigError(`Two models are named "${model.name}"; model names must be unique.`);
    names.add(model.name);
  }
  return config;
}

/** One line per problem, in the config's own words: where (`models[0].engine`), what is wrong, what fits. */
function formatIssues(error: z.ZodError, input: unknown): string {
  return error.issues
    .map((issue) => `  - ${issuePath(issue.path, input)}: ${issueMessage(issue, valueAt(input, issue.path))}`)
    .join('\n');
}

function issuePath(path: PropertyKey[], input: unknown): string {
  if (path.length === 0) return '(top level)';
  let text = '';
  for (const [index, key] of path.entries()) {
    if (typeof key === 'number') {
      text += `[${key}]`;
      // Name the model too: "models[2] (qwen)" is easier to find than an index.
      const entry = valueAt(input, path.slice(0, index + 1));
      if (path[index - 1] === 'models' && isRecord(entry) && typeof entry.name === 'string')
        text += ` ("${entry.name}")`;
    } else text += `${text === '' ? '' : '.'}${String(key)}`;
  }
  return text;
}

function issueMessage(issue: z.core.$ZodIssue, value: unknown): string {
  if (issue.code === 'invalid_union' && 'discriminator' in issue && issue.discriminator) {
    const options = ((issue as { options?: unknown[] }).options ?? [])
      .map((option) => `"${String(option)}"`)
      .join(' or ');
    return value === undefined ? `missing; set it to ${options}` : `${JSON.stringify(value)} is not one of ${options}`;
  }
  if (issue.code === 'invalid_type') {
    if (value === undefined) return 'missing (required)';
    return `expected ${issue.expected === 'number' ? 'a number' : issue.expected}, got ${typeof value === 'number' ? String(value) : JSON.stringify(value)}`;
  }
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((key) => `"${key}"`).join(', ')} (see docs/configuration.md)`;
  return issue.message.replace(/^Invalid input: /, '');
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}
