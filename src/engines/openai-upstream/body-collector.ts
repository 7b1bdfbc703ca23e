/** Collects a response body up to a limit (an error page or a completion); the rest is dropped. */
export class BodyCollector {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly limitBytes: number) {}

  add(chunk: Buffer): void {
    if (this.size >= this.limitBytes) return;
    const room = this.limitBytes - this.size;
    const kept = chunk.length <= room ? chunk : chunk.subarray(0, room);
    this.chunks.push(kept);
    this.size += kept.length;
  }

  get truncated(): boolean {
    return this.size >= this.limitBytes;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}
