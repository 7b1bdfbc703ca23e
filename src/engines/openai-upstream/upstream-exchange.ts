import type { Dispatcher } from 'undici';
import type { EventSourceMessage } from 'eventsource-parser';
import { assertNever, type ChatRequest, type StreamPart, type Usage } from '../engine.js';
import { EngineError } from '../engine-error.js';
import { ChunkNormalizer } from './chunk-normalizer.js';
import { Deadline } from './deadline.js';
import { readErrorDetails } from './error-body.js';
import { asRecord, parseJson, type JsonRecord } from './json-value.js';
import { PartQueue } from '../part-queue.js';
import { ResponseBody } from './response-body.js';
import type { TokenCounter } from './token-counter.js';
import { errorFromStreamEvent, errorFromTransport, errorMidStream } from './upstream-errors.js';
import { UsageTracker } from './usage-tracker.js';

export interface ExchangeOptions {
  request: ChatRequest;
  signal: AbortSignal;
  counter: TokenCounter;
  firstTokenTimeoutMs: number;
  idleTimeoutMs: number;
  responseTimeoutMs: number;
  /** Called once when the upstream request is over, however it ended (frees the concurrency slot). */
  onSettled: () => void;
  /** Reads another endpoint's chunks (text completions) as chat chunks before they are normalized. */
  translateChunk?: (chunk: JsonRecord, messageKey: 'delta' | 'message') => JsonRecord;
}

/** Parts buffered for a slow client before the upstream socket is paused. */
const HIGH_WATER_MARK = 256;

/*
 * States and transitions. `phase` is the state; the other fields are facts the transitions read.
 *
 * | from      | event                                           | to        | effect                                              |
 * |-----------|-------------------------------------------------|-----------|-----------------------------------------------------|
 * | waiting   | constructor, signal already aborted             | done      | cancel(): reject `started` with the abort reason    |
 * | waiting   | first non-error part (emit)                     | streaming | queue it, resolve `started`, first-token -> idle    |
 * | waiting   | error part, status error, empty body, onError,  | done      | failBeforeStart: reject `started` (EngineError, the |
 * |           | first-token/response deadline, failToDispatch,  |           | router may fail over), stop the upstream if still   |
 * |           | [DONE]/end with nothing generated               |           | open, settle                                        |
 * | waiting   | client abort (cancel)                           | done      | reject `started` with the reason, settle, abort     |
 * | streaming | part (emit)                                     | streaming | queue it; queue full -> `paused` (deadline off) and |
 * |           |                                                 |           | onData returns false until the queue drains         |
 * | streaming | error part (normalizer.fail: onError, error     | done      | queue the error, closeStream, stop the upstream if  |
 * |           | event/field, malformed stream, idle deadline)   |           | still open                                          |
 * | streaming | [DONE] or end of body (onComplete)              | done      | closeStream: usage part (reported or counted),      |
 * |           |                                                 |           | close the queue, settle                             |
 * | streaming | client abort (cancel)                           | done      | closeStream (usage so far, no finish), abort        |
 * | done      | onData / events / parts                         | done      | ignored                                             |
 * | done      | onComplete / onError                            | done      | `responseOver`, clear the deadline                  |
 * | done      | idle deadline (response left open after [DONE]) | done      | abort the upstream connection                       |
 *
 * Facts: `responseOver` (onComplete/onError seen: aborting is a no-op, so stopUpstreamIfOpen skips it);
 * `abortUpstream` (set by onConnect; `cancelReason` remembers an abort requested before it, applied
 * there); `resumeUpstream` (set by onHeaders, called when a paused queue drains); `paused`;
 * `settled` (onSettled runs exactly once, whichever transition reaches done first).
 * Order matters in two places: cancel() sets the phase before aborting, since undici reports the
 * abort synchronously through onError; emit() resolves `started` only after queueing the first part.
 */

/**
 * `waiting`: no token yet (failures reject startChat, so the router may try elsewhere);
 * `streaming`: startChat resolved (failures become the stream's error part); `done`: nothing more.
 */
type Phase = 'waiting' | 'streaming' | 'done';

/**
 * One chat request to one upstream, as an undici dispatch handler: the response is read from the
 * socket callbacks directly (no stream objects, no promise per chunk), normalized, and queued.
 *
 * `started` resolves with the parts at the first generated token (or, for a JSON response, once the
 * whole completion is read), so anything that goes wrong before it (status, refused connection,
 * an error event, a stream that ends empty, the first-token timeout) is an EngineError the router
 * can fail over on. After it, failures are an error part followed by the usage of what was produced.
 */
export class UpstreamExchange implements Dispatcher.DispatchHandlers {
  readonly started: Promise<PartQueue>;
  private resolveStarted!: (parts: PartQueue) => void;
  private rejectStarted!: (error: unknown) => void;
  private phase: Phase = 'waiting';
  private readonly body: ResponseBody;
  private readonly queue: PartQueue;
  private readonly usage: UsageTracker;
  private readonly normalizer: ChunkNormalizer;
  private readonly deadline: Deadline;
  private abortUpstream: ((error?: Error) => void) | null = null;
  private cancelReason: Error | null = null;
  private resumeUpstream: (() => void) | null = null;
  private paused = false;
  /** The upstream response ended (complete or failed): aborting it now would be a no-op. */
  private responseOver = false;
  private settled = false;

  constructor(private readonly options: ExchangeOptions) {
    this.started = new Promise((resolve, reject) => {
      this.resolveStarted = resolve;
      this.rejectStarted = reject;
    });
    this.queue = new PartQueue({
      highWaterMark: HIGH_WATER_MARK,
      onAbandoned: () => this.stopUpstream(new Error('the consumer stopped reading')),
    });
    this.usage = new UsageTracker(options.request, options.counter);
    this.normalizer = new ChunkNormalizer(options.request.n, this.usage, (part) => this.emit(part));
    this.deadline = new Deadline((phase) => this.expire(phase));
    this.body = new ResponseBody(
      {
        onEvent: (event) => this.acceptEvent(event),
        onErrorField: (value) => this.normalizer.fail(errorFromStreamEvent(readErrorDetails(parseJson(value)))),
        onMalformed: (message) =>
          this.normalizer.fail(
            new EngineError('upstream_error', `The upstream engine's stream is malformed: ${message}.`),
          ),
      },
      options.request.stream,
    );
    if (options.signal.aborted) {
      this.cancel();
      return;
    }
    options.signal.addEventListener('abort', this.cancel, { once: true });
    if (options.request.stream) this.deadline.startFirstToken(options.firstTokenTimeoutMs);
    else this.deadline.startFirstToken(options.responseTimeoutMs);
  }

  /** The request could not even be handed to undici (pool closed, invalid header). */
  failToDispatch(error: unknown): void {
    this.failBeforeStart(errorFromTransport(error));
  }

  onConnect(abort: (error?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.cancelReason) abort(this.cancelReason);
  }

  onHeaders(status: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx informational
    this.resumeUpstream = resume;
    this.body.begin(status, rawHeaders);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.phase === 'done') return true;
    if (this.phase === 'streaming' && this.body.isEventStream) this.deadline.touch();
    this.body.add(chunk);
    return !this.paused;
  }

  onComplete(): void {
    this.responseOver = true;
    if (this.phase === 'done') {
      this.deadline.clear();
      return;
    }
    const end = this.body.end();
    switch (end.kind) {
      case 'events':
        this.endStream(false);
        return;
      case 'completion':
        this.acceptCompletion(end.completion);
        return;
      case 'status-error':
        this.failBeforeStart(end.error);
        return;
      case 'nothing':
        this.failBeforeStart(new EngineError('unavailable', 'The upstream engine answered without a response.'));
        return;
      default:
        assertNever(end);
    }
  }

  onError(error: Error): void {
    this.responseOver = true;
    if (this.phase === 'done') {
      this.deadline.clear();
      return;
    }
    if (this.phase === 'waiting') this.failBeforeStart(errorFromTransport(error));
    else this.normalizer.fail(errorMidStream(error));
  }

  private acceptEvent(event: EventSourceMessage): void {
    if (this.phase === 'done' || this.normalizer.hasFailed) return;
    const data = event.data;
    if (data === '[DONE]') {
      // Finish at once: some upstreams keep the connection open after [DONE].
      this.endStream(true);
      return;
    }
    // Most chunks are one token of text, read without JSON.parse; anything else is parsed here.
    if (event.event !== 'error' && !this.options.translateChunk && this.normalizer.acceptPlainDelta(data)) return;
    const chunk = asRecord(parseJson(data));
    if (event.event === 'error') {
      this.normalizer.fail(errorFromStreamEvent(readErrorDetails(chunk ?? { error: data })));
      return;
    }
    if (chunk)
      this.normalizer.accept(this.options.translateChunk ? this.options.translateChunk(chunk, 'delta') : chunk);
  }

  private acceptCompletion(completion: JsonRecord | null): void {
    if (!completion) {
      this.failBeforeStart(
        new EngineError('upstream_error', 'The upstream engine answered with a body that is not a JSON completion.', {
          retryable: true,
        }),
      );
      return;
    }
    this.normalizer.accept(
      this.options.translateChunk ? this.options.translateChunk(completion, 'message') : completion,
      'message',
    );
    this.endStream(true);
  }

  /** Every part passes here: the first token starts the stream; an error before it rejects startChat. */
  private emit(part: StreamPart): void {
    if (this.phase === 'done') return;
    if (this.phase === 'waiting') {
      if (part.type === 'error') {
        this.failBeforeStart(part.error);
        return;
      }
      this.phase = 'streaming';
      if (this.options.request.stream) this.deadline.startIdle(this.options.idleTimeoutMs);
      this.queue.push(part);
      this.resolveStarted(this.queue);
      return;
    }
    if (part.type === 'error') {
      // Whatever follows an error is not read: the client gets the error event now, not when the upstream hangs up.
      this.queue.push(part);
      this.endStream(true);
      this.stopUpstreamIfOpen();
      return;
    }
    if (!this.queue.push(part) && !this.paused) {
      // A slow client: the upstream waits for it, and its silence meanwhile is not the upstream's fault.
      this.paused = true;
      this.deadline.clear();
      this.queue.whenDrained(() => {
        this.paused = false;
        if (this.phase === 'streaming') this.deadline.startIdle(this.options.idleTimeoutMs);
        this.resumeUpstream?.();
      });
    }
  }

  /**
   * The upstream has nothing more to say (`[DONE]`, end of body, error part). `sawEnd`: the upstream
   * said it was done (or the failure was already reported); otherwise completeness is judged from the
   * finish reasons. Then the usage, reported or counted, and the queue closes.
   */
  private endStream(sawEnd: boolean): void {
    if (this.phase === 'done') return;
    this.normalizer.end(sawEnd);
    if (this.phase === 'waiting') {
      // Nothing was generated and nothing failed: an upstream that sent only `[DONE]`, or only a role chunk.
      this.failBeforeStart(
        new EngineError('upstream_error', 'The upstream engine ended the response without generating anything.', {
          retryable: true,
        }),
      );
      return;
    }
    this.closeStream();
  }

  /** Ends the parts with the usage (reported, else counted). After `[DONE]` the response itself may still be
   * finishing: the connection is left to complete (and be reused), under the idle deadline in case it hangs. */
  private closeStream(): void {
    this.phase = 'done';
    if (this.responseOver) this.deadline.clear();
    else this.deadline.startIdle(this.options.idleTimeoutMs);
    const reported = this.usage.reportedUsage;
    if (reported) {
      this.closeWithUsage(reported);
      return;
    }
    this.usage.countedUsage().then(
      (usage) => this.closeWithUsage(usage),
      () => this.closeWithUsage(null),
    );
  }

  private closeWithUsage(usage: Usage | null): void {
    if (usage) this.queue.push({ type: 'usage', usage });
    this.queue.close();
    this.settle();
  }

  private failBeforeStart(error: EngineError): void {
    if (this.phase !== 'waiting') return;
    this.phase = 'done';
    this.deadline.clear();
    this.stopUpstreamIfOpen();
    this.rejectStarted(error);
    this.settle();
  }

  private expire(phase: 'first-token' | 'idle'): void {
    if (this.phase === 'done') {
      // The parts are complete but the upstream never ended its response: drop the connection.
      this.stopUpstream(new Error('the upstream kept the response open after its end'));
      return;
    }
    const stream = this.options.request.stream;
    const limit = !stream
      ? this.options.responseTimeoutMs
      : phase === 'first-token'
        ? this.options.firstTokenTimeoutMs
        : this.options.idleTimeoutMs;
    const what = !stream ? 'complete response' : phase === 'first-token' ? 'first token' : 'chunk';
    const error = new EngineError('timeout', `The upstream engine sent no ${what} within ${limit} ms.`);
    if (this.phase === 'waiting') this.failBeforeStart(error);
    else this.normalizer.fail(error);
  }

  /** The client went away: abort the upstream request now; the parts end with the usage so far (no finish, no error). */
  private readonly cancel = (): void => {
    const reason =
      this.options.signal.reason instanceof Error ? this.options.signal.reason : new Error('client disconnected');
    // The phase changes first: undici reports the abort synchronously, and it must not read as a failure.
    if (this.phase === 'waiting') {
      this.phase = 'done';
      this.deadline.clear();
      this.rejectStarted(reason);
      this.settle();
    } else if (this.phase === 'streaming') {
      this.closeStream();
    }
    this.stopUpstream(reason);
  };

  private stopUpstreamIfOpen(): void {
    if (!this.responseOver) this.stopUpstream(new Error('the exchange is over'));
  }

  private stopUpstream(reason: Error): void {
    this.cancelReason ??= reason;
    this.abortUpstream?.(reason);
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.options.signal.removeEventListener('abort', this.cancel);
    this.options.onSettled();
  }
}
