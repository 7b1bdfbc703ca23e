import { randomBytes } from 'node:crypto';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A random base62 string; the bias of `byte % 62` is irrelevant for identifiers (keys use rejection sampling). */
export function randomId(length: number): string {
  const bytes = randomBytes(length);
  let id = '';
  for (const byte of bytes) id += ALPHABET[byte % ALPHABET.length];
  return id;
}

export const newRequestId = (): string => `req_${randomId(24)}`;
export const newCompletionId = (): string => `chatcmpl-${randomId(29)}`;
export const newToolCallId = (): string => `call_${randomId(24)}`;
