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
  /** Start a request where a sequence already holds the beginning of its prompt (a chat's earlier turns). */
  reusePrefix: z.boolean().default(true),
  /** Serve POST /embeddings with this model (its embedding context is created on the first request). */
  embeddings: z.boolean().default(false),
});

const upstreamDeployment = z.strictObject({
  /** Base URL of an OpenAI-compatible API (`http://host:8000/v1`); `/chat/completions` is appended unless present. */
  url: z.string().url(),
  /** The upstream's API key, or `env:NAME` to read it from the environment. Sent as a Bearer token, never logged. */
  apiKey: z.string().optional(),
  /** The model name the upstream knows (substituted for the public name). */
  model: z.string().min(1),
  weight: z.number().positive().default(1),
  /** Extra headers sent with every request (an OpenAI organization, a proxy's routing header, ...). */
  headers: z.record(z.string(), z.string()).default({}),
  /** Requests in flight on this deployment beyond which it answers `overloaded` (the router tries the next). */
  maxConcurrent: z.number().int().min(1).optional(),
  connectTimeoutMs: z.number().int().min(1).default(10_000),
  /** From sending the request to the first generated token (prompt processing included). */
  firstTokenTimeoutMs: z.number().int().min(1).default(120_000),
  /** Longest silence between two chunks of a stream once tokens flow. */
  idleTimeoutMs: z.number().int().min(1).default(60_000),
  /** A whole non-streamed response (the upstream generates everything before its first byte). */
  responseTimeoutMs: z.number().int().min(1).default(600_000),
  /** OpenAI's reasoning models refuse `max_tokens`; most other engines only know it. */
  maxTokensField: z.enum(['max_tokens', 'max_completion_tokens']).default('max_tokens'),
});

/** An embedded llama.cpp deployment inside a gateway model (mixed fleets): the llama-cpp model fields minus the name. */
const embeddedDeployment = llamaCppModel.omit({ name: true }).extend({ weight: z.number().positive().default(1) });

/** How the router spreads requests over a model's deployments and reacts to failures. */
const routing = z
  .strictObject({
    /** Deployments tried for one request before the last error goes to the client. */
    maxAttempts: z.number().int().min(1).default(3),
    /** Consecutive failures after which a deployment is skipped for `cooldownMs`. */
    failuresBeforeCooldown: z.number().int().min(1).default(3),
    cooldownMs: z.number().int().min(0).default(30_000),
    /** Longest `retry-after` honoured as a cooldown (an upstream asking for an hour is capped). */
    maxRetryAfterMs: z.number().int().min(0).default(60_000),
    /** When every deployment is cooling down, wait for the first one if it is free within this time. */
    maxRetryWaitMs: z.number().int().min(0).default(2_000),
  })
  .prefault({});

const openaiModel = z
  .strictObject({
    name: z.string().min(1),
    engine: z.literal('openai'),
    deployments: z.array(upstreamDeployment).default([]),
    /** Embedded deployments served beside the upstream ones under the same public name. */
    embeddedDeployments: z.array(embeddedDeployment).default([]),
    routing,
  })
  .refine((model) => model.deployments.length + model.embeddedDeployments.length > 0, {
    message: 'a gateway model needs at least one deployment (deployments or embeddedDeployments)',
    path: ['deployments'],
  });

/** Long enough not to be guessed, and never an API key (a leaked `oruel_` key must not open the admin API). */
const adminToken = z
  .string()
  .min(16, 'the admin token needs at least 16 characters')
  .refine(
    (token) => !token.startsWith('oruel_'),
    'the admin token must not be an API key (it starts with oruel_); use a separate secret',
  );

const modelSchema = z.discriminatedUnion('engine', [llamaCppModel, openaiModel]);

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(8080),
      /** Largest request body accepted; larger is a 413. */
      bodyLimitBytes: z
        .number()
        .int()
        .min(1024)
        .default(4 * 1024 * 1024),
      /** Interval of `: keep-alive` comments on a stream with nothing else to send. */
      keepAliveMs: z.number().int().min(50).default(5_000),
      /** Allowed browser origins; `*` echoes any origin. */
      corsOrigins: z.union([z.literal('*'), z.array(z.string())]).default('*'),
      /** `false` only for local development (`--no-auth`). */
      auth: z.boolean().default(true),
      logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      /** A client must send its request headers within this time, or gets 408 and the connection closes. */
      headersTimeoutMs: z.number().int().min(100).default(10_000),
      /** A client must send its whole request (headers and body) within this time, or gets 408. */
      requestTimeoutMs: z.number().int().min(100).default(30_000),
      /** An idle keep-alive connection is closed after this (longer than a load balancer's usual 60 s, so it closes first). */
      keepAliveTimeoutMs: z.number().int().min(100).default(72_000),
      /**
       * On SIGTERM/SIGINT, how long running requests may finish; then streams end with an error event.
       * With the ledger flush after it, shutdown stays inside Kubernetes' 30 s grace period.
       */
      drainTimeoutMs: z.number().int().min(0).default(10_000),
      /** `pretty`: readable lines for a terminal; `json`: one JSON object per line; `auto`: pretty when stdout is a terminal. */
      logFormat: z.enum(['auto', 'json', 'pretty']).default('auto'),
    })
    .refine((server) => server.headersTimeoutMs <= server.requestTimeoutMs, {
      message: 'headersTimeoutMs must not exceed requestTimeoutMs (the headers are part of the request)',
      path: ['headersTimeoutMs'],
    })
    .prefault({}),
  database: z.strictObject({ url: z.string().default('sqlite:./data/oruel.db') }).prefault({}),
  redis: z
    .strictObject({
      url: z.string().nullable().default(null),
      /** Prepended to every Redis key and channel, so deployments (or test runs) can share one server. */
      keyPrefix: z.string().default('oruel:'),
    })
    .prefault({}),
  /** The admin API (/v1/admin) answers only when a token is set. */
  admin: z.strictObject({ token: adminToken.nullable().default(null) }).prefault({}),
  limits: z
    .strictObject({
      /** Completion tokens reserved against tpm and budgets when a request sets no max_tokens. */
      defaultCompletionTokens: z.number().int().min(1).default(512),
      /** A concurrency slot not renewed for this long is freed, so a crashed replica does not hold slots. */
      leaseTtlMs: z.number().int().min(1_000).default(60_000),
      /** How long a key check is cached; revocations reach other replicas at once with Redis, within this without. */
      keyCacheTtlMs: z.number().int().min(0).max(5_000).default(2_000),
    })
    .prefault({}),
  ledger: z
    .strictObject({
      /** Where rows wait on disk while the database is down; null = `ledger-spill` beside the SQLite file, or ./data/ledger-spill. */
      spillDir: z.string().min(1).nullable().default(null),
      /** Rows go to disk once the database has failed for this long (memory is not where rows should wait out an outage). */
      spillAfterMs: z.number().int().min(0).default(5_000),
      /** Rows held in memory at most; beyond it they go to disk at once. */
      maxQueued: z.number().int().min(1).default(50_000),
      /** At shutdown, how long to wait for the database before the remaining rows go to disk (inside a usual 30 s grace period). */
      flushTimeoutMs: z.number().int().min(1).default(15_000),
    })
    .prefault({}),
  /** Streams a client opts into with `Oruel-Resumable: true` (see docs/streaming-contract.md). */
  resumableStreams: z
    .strictObject({
      /** Generation goes on this long after the client left; nobody resuming by then cancels it. */
      graceMs: z.number().int().min(100).max(3_600_000).default(60_000),
      /** Events kept per stream (Redis: MAXLEN ~); a resume that needs older ones gets a 404. */
      maxEvents: z.number().int().min(100).max(1_000_000).default(20_000),
      /** A stream's events are dropped this long after its last event, whatever else happens (at least twice graceMs). */
      retentionMs: z.number().int().min(1_000).default(300_000),
    })
    .prefault({}),
  /** GET /metrics in Prometheus's text format. */
  metrics: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** Serve /metrics on this port of its own (same host) instead of the API port; 0 = any free port. */
      port: z.number().int().min(0).max(65535).nullable().default(null),
      /** Ask for the admin token (Authorization: Bearer) on /metrics; needs admin.token. */
      requireAdminToken: z.boolean().default(false),
      /** Token counters per API key id (one series per key: mind the cardinality). */
      perKeyTokens: z.boolean().default(false),
    })
    .prefault({}),
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
