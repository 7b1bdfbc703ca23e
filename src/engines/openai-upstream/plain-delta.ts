/**
 * The fast path for the chunk an upstream sends most: one choice, text content only, not finished.
 * Such a chunk is recognized by one anchored regular expression over its JSON text and read without
 * JSON.parse (no object tree per token). Only the exact compact shapes vLLM, SGLang, OpenAI and
 * Ollama write match; anything else (a finish reason, usage, tool calls, reasoning, an error, other
 * fields, whitespace, another key order) does not, and the caller parses the chunk as before.
 *
 * What a match may carry besides the content is what the normalizer ignores anyway: the id, object,
 * created, model, system_fingerprint and service_tier, `role: "assistant"` (Ollama repeats it on every
 * delta), `logprobs: null`, vLLM's `stop_reason: null`, OpenAI's `usage: null` and `obfuscation`.
 */

/** A JSON string without escapes or control characters (which JSON forbids raw). */
const PLAIN_STRING = String.raw`"[^"\\\u0000-\u001f]*"`;
/** A non-negative JSON integer (no leading zeros, no fraction or exponent). */
const INTEGER = String.raw`(?:0|[1-9][0-9]{0,15})`;
/** The content: any JSON string body, escapes included (decoded by JSON.parse of the literal alone). */
const CONTENT = String.raw`((?:[^"\\\u0000-\u001f]|\\.)*)`;

const PLAIN_DELTA = new RegExp(
  [
    String.raw`^\{"id":${PLAIN_STRING},"object":"chat\.completion\.chunk","created":${INTEGER},"model":${PLAIN_STRING}`,
    String.raw`(?:,"service_tier":(?:null|${PLAIN_STRING}))?(?:,"system_fingerprint":(?:null|${PLAIN_STRING}))?`,
    String.raw`,"choices":\[\{"index":(${INTEGER}),"delta":\{(?:"role":"assistant",)?"content":"${CONTENT}"\}`,
    String.raw`(?:,"logprobs":null)?,"finish_reason":null(?:,"stop_reason":null)?\}\]`,
    String.raw`(?:,"usage":null)?(?:,"obfuscation":${PLAIN_STRING})?\}$`,
  ].join(''),
);

/** A content-only delta: the choice it belongs to and its text (possibly empty). */
export interface PlainDelta {
  choice: number;
  text: string;
}

/** The chunk's choice and text when `data` is a plain content delta; null when it must be parsed in full. */
export function readPlainDelta(data: string): PlainDelta | null {
  const match = PLAIN_DELTA.exec(data);
  if (match === null) return null;
  const raw = match[2]!;
  if (!raw.includes('\\')) return { choice: Number(match[1]), text: raw };
  try {
    return { choice: Number(match[1]), text: JSON.parse(`"${raw}"`) as string };
  } catch {
    // An escape JSON does not allow (`\x`, a short `\u`): the full parse decides, as for any chunk.
    return null;
  }
}
