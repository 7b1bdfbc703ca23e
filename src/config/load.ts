import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { OperatorError } from '../errors/operator-error.js';
import { configSchema, type Config } from './schema.js';

/** A configuration the server cannot start with; its message is meant for the operator, as is. */
export class ConfigError extends OperatorError {}

/** What the command line may set; each field wins over the file and the environment. */
export interface ConfigOverrides {
  configFile?: string;
  host?: string;
  port?: number;
  model?: string;
  modelName?: string;
  auth?: boolean;
  threads?: number;
  sequences?: number;
}

type Env = Record<string, string | undefined>;

/** Reads the YAML file, the environment and the overrides into one validated Config. */
export function loadConfig(overrides: ConfigOverrides = {}, env: Env = process.env): Config {
  const file = overrides.configFile ?? env.ORUEL_CONFIG;
  const raw: Record<string, unknown> = file ? readYamlFile(file) : {};
  const merged = mergeEnvironment(raw, env);
  applyOverrides(merged, overrides);
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) {
    throw new ConfigError(`Invalid configuration${file ? ` in ${file}` : ''}:\n${formatIssues(parsed.error)}`);
  }
  return resolveSecrets(parsed.data, env);
}

/** The model name `--model` gets when `--model-name` is absent: the file name without `.gguf`. */
export function modelNameFromPath(path: string): string {
  return basename(path.replace(/^hf:/, '')).replace(/\.gguf$/i, '');
}

export function defaultModelsDir(env: Env): string {
  const cache = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cache, 'oruel', 'models');
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
  if (typeof value !== 'object' || Array.isArray(value)) throw new ConfigError(`Config file ${file} must be a YAML mapping at the top level.`);
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

function mergeEnvironment(raw: Record<string, unknown>, env: Env): Record<string, unknown> {
  const merged = structuredClone(raw);
  const server = section(merged, 'server');
  if (env.ORUEL_HOST) server.host = env.ORUEL_HOST;
  const port = integerFromEnv(env, 'ORUEL_PORT');
  if (port !== undefined) server.port = port;
  if (env.ORUEL_LOG_LEVEL) server.logLevel = env.ORUEL_LOG_LEVEL;
  if (env.ORUEL_DATABASE_URL) section(merged, 'database').url = env.ORUEL_DATABASE_URL;
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
  if (overrides.threads !== undefined) merged.threads = overrides.threads;
  if (overrides.model !== undefined) {
    const models = Array.isArray(merged.models) ? merged.models : [];
    const model: Record<string, unknown> = {
      name: overrides.modelName ?? modelNameFromPath(overrides.model),
      engine: 'llama-cpp',
      path: overrides.model,
    };
    if (overrides.sequences !== undefined) model.sequences = overrides.sequences;
    merged.models = [...models, model];
  }
}

/** `apiKey: env:NAME` keeps secrets out of config files. */
function resolveSecrets(config: Config, env: Env): Config {
  for (const model of config.models) {
    if (model.engine !== 'openai') continue;
    for (const deployment of model.deployments) {
      const match = deployment.apiKey?.match(/^env:(\w+)$/);
      if (!match) continue;
      const value = env[match[1]!];
      if (!value) throw new ConfigError(`Model "${model.name}": environment variable ${match[1]} (its apiKey) is not set.`);
      deployment.apiKey = value;
    }
  }
  const names = new Set<string>();
  for (const model of config.models) {
    if (names.has(model.name)) throw new ConfigError(`Two models are named "${model.name}"; model names must be unique.`);
    names.add(model.name);
  }
  return config;
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `  - ${issue.path.join('.') || '(top level)'}: ${issue.message}`).join('\n');
}
