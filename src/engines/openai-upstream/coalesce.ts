import type { StreamPart } from '../engine.js';

/** The largest text one merged part may carry: chunks stay small enough to show progress. */
const MAX_MERGED_CHARS = 16 * 1024;

/**
 * The part at `start`, merged with the deltas right behind it that continue it (text of the same
 * choice, arguments of the same tool call); returns it with the index after the last one taken.
 *
 * Only parts already waiting are merged, so nothing is delayed: when tokens arrive one at a time
 * every part goes out alone, and when the upstream delivers faster than the client is written to
 * (a burst in one socket read, a loaded event loop) the backlog leaves as one chunk instead of many.
 * Each chunk costs a JSON.stringify and a socket write; the text is the same either way.
 */
export function takeMerged(buffer: readonly StreamPart[], start: number): { part: StreamPart; next: number } {
  const first = buffer[start]!;
  if (first.type !== 'text-delta' && first.type !== 'tool-call-delta') return { part: first, next: start + 1 };
  let text = first.type === 'text-delta' ? first.text : first.argumentsText;
  let next = start + 1;
  while (next < buffer.length && text.length < MAX_MERGED_CHARS) {
    const candidate = buffer[next]!;
    if (first.type === 'text-delta' && candidate.type === 'text-delta' && candidate.choice === first.choice) text += candidate.text;
    else if (first.type === 'tool-call-delta' && candidate.type === 'tool-call-delta' && candidate.choice === first.choice && candidate.callIndex === first.callIndex) text += candidate.argumentsText;
    else break;
    next += 1;
  }
  if (next === start + 1) return { part: first, next };
  return { part: first.type === 'text-delta' ? { ...first, text } : { ...first, argumentsText: text }, next };
}
