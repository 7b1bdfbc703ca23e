import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceMessage, type EventSourceParser, type ParseError } from 'eventsource-parser';

export interface SseReaderCallbacks {
  onEvent(event: EventSourceMessage): void;
  /** llama-server writes mid-stream failures as an `error: {...}` line, a field SSE does not define. */
  onErrorField(value: string): void;
  /** The stream broke the framing beyond repair (an event larger than the buffer limit). */
  onMalformed(message: string): void;
}

/** One event may not exceed this many characters: a runaway line must not fill memory. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

/**
 * Bytes -> SSE events. UTF-8 sequences split across socket reads are joined by the decoder;
 * eventsource-parser handles the rest of what upstreams send: `data:` with or without a space,
 * comment lines (`: keep-alive`, OpenRouter's `: OPENROUTER PROCESSING`), CRLF, a final event
 * without its blank line (flushed by `end`).
 */
export class SseReader {
  private readonly decoder = new StringDecoder('utf8');
  private readonly parser: EventSourceParser;
  private broken = false;

  constructor(callbacks: SseReaderCallbacks) {
    this.parser = createParser({
      onEvent: callbacks.onEvent,
      onError: (error: ParseError) => {
        if (error.type === 'unknown-field' && error.field === 'error') callbacks.onErrorField(error.value ?? '');
        else if (error.type === 'max-buffer-size-exceeded') {
          this.broken = true;
          callbacks.onMalformed(error.message);
        }
      },
      maxBufferSize: MAX_EVENT_CHARS,
    });
  }

  feed(chunk: Buffer): void {
    if (this.broken) return;
    const text = this.decoder.write(chunk);
    if (text !== '') this.parser.feed(text);
  }

  /** The body ended: parse whatever is left, as if it ended with a blank line (a last event without one counts). */
  end(): void {
    if (this.broken) return;
    this.parser.feed(`${this.decoder.end()}\n\n`);
  }
}
