/**
 * One timer per upstream request: first the wait for the first token, then the silence allowed
 * between chunks. `touch` (every chunk) only refreshes the existing timer: no allocation per chunk.
 */
export class Deadline {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly onExpired: (phase: 'first-token' | 'idle') => void) {}

  startFirstToken(ms: number): void {
    this.set(ms, 'first-token');
  }

  startIdle(ms: number): void {
    this.set(ms, 'idle');
  }

  touch(): void {
    this.timer?.refresh();
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private set(ms: number, phase: 'first-token' | 'idle'): void {
    this.clear();
    this.timer = setTimeout(() => {
      this.timer = null;
      this.onExpired(phase);
    }, ms);
  }
}
