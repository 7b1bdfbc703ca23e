/**
 * Tells every replica that a key changed (revoked, rotated, updated) so their key caches drop it.
 * A listener called with null must forget everything: messages may have been missed.
 */
export interface KeyChangeFeed {
  publish(keyId: string): Promise<void>;
  /** Returns the function that stops listening. */
  subscribe(listener: (keyId: string | null) => void): () => void;
  close(): Promise<void>;
}

/** One process: the change reaches only this process's listeners (a single replica needs no more). */
export class LocalKeyChangeFeed implements KeyChangeFeed {
  readonly #listeners = new Set<(keyId: string | null) => void>();

  publish(keyId: string): Promise<void> {
    for (const listener of this.#listeners) listener(keyId);
    return Promise.resolve();
  }

  subscribe(listener: (keyId: string | null) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }
}
