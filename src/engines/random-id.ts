import { randomBase62 } from '../ids/random-base62.js';

export const newRequestId = (): string => `req_${randomBase62(24)}`;
export const newCompletionId = (): string => `chatcmpl-${randomBase62(29)}`;
export const newTextCompletionId = (): string => `cmpl-${randomBase62(29)}`;
export const newToolCallId = (): string => `call_${randomBase62(24)}`;
