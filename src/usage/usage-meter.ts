import { assertNever, type FinishReason, type StreamPart, type Usage } from '../engines/index.js';

/**
 * Watches the parts of one request as they pass, so the ledger gets the tokens actually produced
 * and the time to first token, whatever happens to the response afterwards.
 */
export class UsageMeter {
  private usage: Usage | null = null;
  private firstTokenAt: number | null = null;
  private finishReason: FinishReason | null = null;
  private deltas = 0;

  constructor(private readonly startedAt: number = performance.now()) {}

  observe(part: StreamPart): void {
    switch (part.type) {
      case 'text-delta':
      case 'tool-call-start':
      case 'tool-call-delta':
        this.firstTokenAt ??= performance.now();
        this.deltas += 1;
        return;
      case 'finish':
        if (part.choice === 0) this.finishReason = part.finishReason;
        return;
      case 'usage':
        this.usage = part.usage;
        return;
      case 'error':
        return;
      default:
        assertNever(part);
    }
  }

  /** Milliseconds from the request's arrival to the first generated token, null if none came. */
  get ttftMs(): number | null {
    return this.firstTokenAt === null ? null : Math.round(this.firstTokenAt - this.startedAt);
  }

  get finish(): FinishReason | null {
    return this.finishReason;
  }

  /** The engine's usage; without it (a crash before the end), the deltas seen are the best lower bound. */
  get totals(): { promptTokens: number; completionTokens: number; source: 'engine' | 'counted' | 'none' } {
    if (this.usage) return this.usage;
    if (this.deltas > 0) return { promptTokens: 0, completionTokens: this.deltas, source: 'counted' };
    return { promptTokens: 0, completionTokens: 0, source: 'none' };
  }
}
