/**
 * Every bound on an inference request's fields (chat, completions, embeddings), in one place (README
 * "Request limits" lists them).
 * They keep any single request's work small enough that other clients never wait on it; each is
 * checked before the body is interpreted, and a request past one gets a 400 naming the field.
 */
export const REQUEST_LIMITS = {
  /** Messages in one request. */
  maxMessages: 2048,
  /** Stop sequences (as OpenAI). */
  maxStopSequences: 4,
  /** Characters in one stop sequence. */
  maxStopLength: 1024,
  /** Tools offered in one request (as OpenAI). */
  maxTools: 128,
  /** Characters in a model name. */
  maxModelNameLength: 256,
  /** Nesting of objects and arrays inside one JSON schema (response_format or a tool's parameters). */
  maxSchemaDepth: 64,
  /**
   * Objects, arrays and values across every schema of one request (response_format and all tools):
   * about 2,500 properties. Lower than OpenAI's 5,000 properties because node-llama-cpp generates
   * the grammar text in one synchronous call (about 10 ms per 1,000 properties here, warm).
   */
  maxSchemaNodes: 5_000,
  /** Nesting of objects and arrays anywhere in the request body (schemas included). */
  maxBodyDepth: 128,
  /** Choices in one request: chat's `n`, and prompts x `n` on /completions. */
  maxChoices: 128,
  /** Prompts in one /completions request. */
  maxPrompts: 128,
  /** Inputs in one /embeddings request (as OpenAI). */
  maxEmbeddingInputs: 2048,
  /** Tokens in one token-array input of /embeddings (as OpenAI). */
  maxEmbeddingInputTokens: 8192,
} as const;
