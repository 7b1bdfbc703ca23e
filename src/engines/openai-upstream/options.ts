/** Everything one upstream deployment needs; main.ts builds it from the config (engines never read config). */
export interface UpstreamOptions {
  /** The public model name, for the engine id and messages. */
  publicName: string;
  /** Base URL of the OpenAI-compatible API (`http://host:8000/v1`) or the full chat completions URL. */
  url: string;
  /** Sent as `Authorization: Bearer ...`; never logged, never echoed to clients. */
  apiKey: string | null;
  /** The model name the upstream knows. */
  upstreamModel: string;
  headers: Record<string, string>;
  /** Requests in flight beyond which startChat answers `overloaded` (retryable); null = no cap. */
  maxConcurrent: number | null;
  connectTimeoutMs: number;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  responseTimeoutMs: number;
  maxTokensField: 'max_tokens' | 'max_completion_tokens';
  /** Distinguishes deployments of one model on the same host in the engine id. */
  idSuffix?: string;
}
