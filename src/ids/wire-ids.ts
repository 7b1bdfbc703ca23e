import { randomBase62 } from './random-base62.js';

/** The ids the wire carries (OpenAI's prefixes and lengths): requests, completions, tool calls. */

export const newRequestId = (): string => `req_${randomBase62(24)}`;
export const newCompletionId = (): string => `chatcmpl-${randomBase62(29)}`;
export const newTextCompletionId = (): string => `cmpl-${randomBase62(29)}`;
export const newToolCallId = (): string => `call_${randomBase62(24)}`;
