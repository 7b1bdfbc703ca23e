/** The public face of src/sse/: what other folders may import from it (docs/decisions/0006-folder-faces.md). */
export type { EventSink } from './event-sink.js';
export { StreamGoneError } from './resume/event-log.js';
export type { EventLog, EventLogLimits, LoggedEvent } from './resume/event-log.js';
export { MemoryEventLog } from './resume/memory-event-log.js';
export { ResumableStream, STREAM_ID_HEADER } from './resume/resumable-stream.js';
export { SseWriter, sseEvent } from './sse-writer.js';
