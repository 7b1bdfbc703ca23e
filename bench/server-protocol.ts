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

/** The reply to `stats`: this process's RSS and CPU so far, and the part waits since the last reply. */
export function statsReply(id: number, partWaitMs: number[]): ChildMessage {
  const cpu = process.cpuUsage();
  return { type: 'stats', id, rssBytes: process.memoryUsage.rss(), cpuMicros: cpu.user + cpu.system, partWaitMs };
}
