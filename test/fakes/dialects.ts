/** The upstream engines the fake can imitate; fixtures/README.md says what each one's quirks are. */
export type Dialect = 'openai' | 'vllm' | 'llama-server' | 'ollama' | 'ollama-legacy';

export const DIALECTS: readonly Dialect[] = ['openai', 'vllm', 'llama-server', 'ollama', 'ollama-legacy'];

/** How each engine drops usage when a stream did not ask for it. */
export type UsageBehaviour =
  /** OpenAI, vLLM, Ollama: no usage chunk, no `usage` field, unless `stream_options.include_usage`. */
  | 'when-asked'
  /** llama-server: usage on the final chunk whatever was asked. */
  | 'always'
  /** Ollama before stream_options existed: never, so the gateway has to count. */
  | 'never';

export const USAGE_BEHAVIOUR: Record<Dialect, UsageBehaviour> = {
  openai: 'when-asked',
  vllm: 'when-asked',
  'llama-server': 'always',
  ollama: 'when-asked',
  'ollama-legacy': 'never',
};

/** The content type each engine streams with. */
export const STREAM_CONTENT_TYPE: Record<Dialect, string> = {
  openai: 'text/event-stream; charset=utf-8',
  vllm: 'text/event-stream; charset=utf-8',
  'llama-server': 'text/event-stream',
  ollama: 'text/event-stream',
  'ollama-legacy': 'text/event-stream',
};

/** An HTTP error body as each engine writes it. */
export function errorBody(dialect: Dialect, status: number, message: string): unknown {
  switch (dialect) {
    case 'openai':
      return {
        error: {
          message,
          type: status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error',
          param: status === 400 ? 'max_tokens' : null,
          code: null,
        },
      };
    case 'vllm':
      // vLLM up to 0.8: the error object at the top level.
      return {
        object: 'error',
        message,
        type: status >= 500 ? 'InternalServerError' : 'BadRequestError',
        param: null,
        code: status,
      };
    case 'llama-server':
      return { error: { code: status, message, type: status >= 500 ? 'server_error' : 'invalid_request_error' } };
    case 'ollama':
    case 'ollama-legacy':
      return { error: { message, type: 'api_error', param: null, code: null } };
  }
}

/** A failure in the middle of a 200 stream, as each engine writes it (one SSE event, blank line included). */
export function midStreamErrorEvent(dialect: Dialect, message: string): string {
  switch (dialect) {
    case 'llama-server':
      return `error: ${JSON.stringify({ code: 500, message, type: 'server_error' })}\n\n`;
    case 'vllm':
      return `data: ${JSON.stringify({ object: 'error', message, type: 'InternalServerError', param: null, code: 500 })}\n\n`;
    case 'openai':
    case 'ollama':
    case 'ollama-legacy':
      return `data: ${JSON.stringify({ error: { message, type: 'server_error', param: null, code: null } })}\n\n`;
  }
}
