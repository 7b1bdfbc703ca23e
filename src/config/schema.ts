import { z } from 'zod';

const llamaCppModel = z.strictObject({
  name: z.string().min(1),
  engine: z.literal('llama-cpp'),
  /** A file path or an `hf:owner/repo/file.gguf` URI (downloaded into the models directory). */
  path: z.string().min(1),
  /** Parallel sequences in one context: requests beyond this wait in the queue. */
  sequences: z.number().int().min(1).max(64).default(2),
  /** Tokens per sequence; 0 or absent = the model's trained context, capped at 4096. */
  contextSize: z.number().int().min(0).default(0),
  /** CPU threads; absent = the server-wide default. */
  threads: z.number().int().min(1).optional(),
  /** Layers offloaded to a GPU when one exists: "auto", "max" or a count. */
  gpuLayers: z.union([z.literal('auto'), z.literal('max'), z.number().int().min(0)]).default('auto'),
  /** Requests allowed to wait for a free sequence; more are refused with 503. */
  maxQueue: z.number().int().min(0).default(64),
});

const upstreamDeployment = z.strictObject({
  url: z.string().url(),
  /** The upstream's API key, or `env:NAME` to read it from the environment. */
  apiKey: z.string().optional(),
  model: z.string().min(1),
  weight: z.number().positive().default(1),
  headers: z.record(z.string(), z.string()).default({}),
  maxConcurrent: z.number().int().min(1).optional(),
  connectTimeoutMs: z.number().int().min(1).default(10_000),
  firstTokenTimeoutMs: z.number().int().min(1).default(120_000),
  idleTimeoutMs: z.number().int().min(1).default(60_000),
});

const openaiModel = z.strictObject({
  name: z.string().min(1),
  engine: z.literal('openai'),
  deployments: z.array(upstreamDeployment).min(1),
});

export const modelSchema = z.discriminatedUnion('engine', [llamaCppModel, openaiModel]);

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest request body accepted; larger is a 413. */
      bodyLimitBytes: z.number().int().min(1024).default(4 * 1024 * 1024),
      /** Interval of `: keep-alive` comments on a stream with nothing else to send. */
      keepAliveMs: z.number().int().min(50).default(5_000),
      /** Allowed browser origins; `*` echoes any origin. */
      corsOrigins: z.union([z.literal('*'), z.array(z.string())]).default('*'),
      /** `false` only for local development (`--no-auth`). */
      auth: z.boolean().default(true),
      logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    })
    .prefault({}),
  database: z.strictObject({ url: z.string().default('sqlite:./data/oruel.db') }).prefault({}),
  redis: z.strictObject({ url: z.string().nullable().default(null) }).prefault({}),
  admin: z.strictObject({ token: z.string().nullable().default(null) }).prefault({}),
  /** Where `hf:` models are downloaded. */
  modelsDir: z.string().min(1),
  /** Base URL of the Hugging Face-compatible file server `hf:` URIs are fetched from. */
  hfEndpoint: z.string().url().default('https://huggingface.co'),
  /** Token for gated or private Hugging Face repositories (HF_TOKEN). */
  hfToken: z.string().nullable().default(null),
  /** Default CPU threads for embedded models. */
  threads: z.number().int().min(1).default(1),
  models: z.array(modelSchema).default([]),
});

export type Config = z.infer<typeof configSchema>;
export type ModelConfig = z.infer<typeof modelSchema>;
export type LlamaCppModelConfig = z.infer<typeof llamaCppModel>;
export type OpenAIModelConfig = z.infer<typeof openaiModel>;
export type UpstreamDeploymentConfig = z.infer<typeof upstreamDeployment>;

/** Served when no model is configured: a small instruct model, downloaded on first use. */
export const DEFAULT_MODEL = {
  name: 'qwen2.5-0.5b-instruct',
  uri: 'hf:Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf',
} as const;
