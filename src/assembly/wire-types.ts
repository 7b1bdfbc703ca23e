/** The JSON objects Oru-el writes, in OpenAI's wire names. */
export interface WireUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

interface WireToolCallFragment {
  index: number;
  id?: string;
  type?: 'function';
  function: { name?: string; arguments: string };
}

interface WireDelta {
  role?: 'assistant';
  content?: string | null;
  tool_calls?: WireToolCallFragment[];
}

export interface WireChunkChoice {
  index: number;
  delta: WireDelta;
  logprobs?: null;
  finish_reason: string | null;
}

export interface WireChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  system_fingerprint?: string;
  choices: WireChunkChoice[];
  usage?: WireUsage;
  error?: { message: string; type: string; param: string | null; code: string | null };
}

export interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface WireCompletion {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: {
    index: number;
    message: { role: 'assistant'; content: string | null; refusal: null; tool_calls?: WireToolCall[] };
    logprobs: null;
    finish_reason: string;
  }[];
  usage: WireUsage;
}

/** What every response of one request shares. */
export interface ResponseIdentity {
  id: string;
  created: number;
  model: string;
}
