/** The IPC messages between the benchmark (parent) and the server process (child). */
export interface ServerChildConfig {
  modelPath: string;
  modelName: string;
  threads: number;
  sequences: number;
  contextSize: number;
  /** Also serve the model under this name with prefix reuse off (the multi-turn comparison). */
  coldModelName?: string;
}

/** `close` has no reply: the process exits once the server closed. */
export type ParentMessage = { type: 'stats'; id: number } | { type: 'close' };

export type ChildMessage =
  | { type: 'ready'; baseURL: string; apiKey: string }
  | { type: 'failed'; message: string }
  | { type: 'stats'; id: number; rssBytes: number; cpuMicros: number; partWaitMs: number[] };
