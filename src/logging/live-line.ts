/** A line redrawn in place on a terminal (a download's progress bar). */
export interface LiveLine {
  /** Erases the line, leaving the cursor at its start. */
  clear(): void;
  /** Draws it again (below whatever was written meanwhile). */
  redraw(): void;
}

/**
 * Keeps log lines and a progress bar on separate lines: while a bar is live, a log line erases it,
 * is written, and the bar is drawn again below it. One guard per server, shared by its logger and
 * its progress displays.
 */
export class LiveLineGuard {
  #live: LiveLine | null = null;

  /** Makes `line` the live line; the returned function detaches it. */
  attach(line: LiveLine): () => void {
    this.#live = line;
    return () => {
      if (this.#live === line) this.#live = null;
    };
  }

  write(stream: NodeJS.WritableStream, text: string): void {
    const live = this.#live;
    if (live === null) {
      stream.write(text);
      return;
    }
    live.clear();
    stream.write(text);
    live.redraw();
  }
}
