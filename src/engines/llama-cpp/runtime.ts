import { getLlama, LlamaLogLevel, type Llama } from 'node-llama-cpp';

export interface LlamaRuntimeOptions {
  /** `false` (CPU), `auto`, or a backend name; there is no GPU on small hosts. */
  gpu: false | 'auto' | 'cuda' | 'vulkan' | 'metal';
  log: (level: 'error' | 'warn' | 'info' | 'debug', message: string) => void;
}

/**
 * One llama.cpp runtime per process, shared by every embedded model.
 * `build: "never"`: a missing prebuilt binary must be an error, never a surprise 12-minute compile.
 */
export async function createLlamaRuntime(options: LlamaRuntimeOptions): Promise<Llama> {
  return getLlama({
    build: 'never',
    gpu: options.gpu,
    logLevel: LlamaLogLevel.warn,
    logger: (level, message) => options.log(toLogLevel(level), message.trimEnd()),
  });
}

function toLogLevel(level: LlamaLogLevel): 'error' | 'warn' | 'info' | 'debug' {
  switch (level) {
    case LlamaLogLevel.fatal:
    case LlamaLogLevel.error:
      return 'error';
    case LlamaLogLevel.warn:
      return 'warn';
    case LlamaLogLevel.info:
      return 'info';
    default:
      return 'debug';
  }
}
