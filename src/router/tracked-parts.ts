import type { StreamPart } from '../engines/engine.js';
import type { EngineError } from '../engines/engine-error.js';

/**
 * The parts of a started chat, watched on their way through: `onEnd` runs once when the stream is over
 * (read to the end, or abandoned), with the error part it carried, if any. This is how a deployment
 * knows its in-flight count and whether the stream failed after its first byte.
 * One `then` per part, no generator: this sits on every token's path.
 */
export class TrackedParts implements AsyncIterable<StreamPart>, AsyncIterator<StreamPart> {
  private iterator: AsyncIterator<StreamPart> | null = null;
  private failure: EngineError | null = null;
  private ended = false;

  constructor(
    private readonly parts: AsyncIterable<StreamPart>,
    private readonly onEnd: (failure: EngineError | null) => void,
  ) {}

  [Symbol.asyncIterator](): AsyncIterator<StreamPart> {
    this.iterator ??= this.parts[Symbol.asyncIterator]();
    return this;
  }

  next(): Promise<IteratorResult<StreamPart>> {
    return this.inner().next().then(this.observe, this.fail);
  }

  async return(value?: unknown): Promise<IteratorResult<StreamPart>> {
    try {
      return (await this.inner().return?.(value)) ?? { value: undefined, done: true };
    } finally {
      this.end();
    }
  }

  private readonly observe = (result: IteratorResult<StreamPart>): IteratorResult<StreamPart> => {
    if (result.done) this.end();
    else if (result.value.type === 'error') this.failure ??= result.value.error;
    return result;
  };

  private readonly fail = (error: unknown): never => {
    this.end();
    throw error;
  };

  private inner(): AsyncIterator<StreamPart> {
    this.iterator ??= this.parts[Symbol.asyncIterator]();
    return this.iterator;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd(this.failure);
  }
}
