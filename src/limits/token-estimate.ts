import type { ChatRequest } from '../engines/index.js';

/** What the estimate reads: chat requests, and other endpoints' prompts seen as user messages. */
export type EstimatedRequest = Pick<ChatRequest, 'model' | 'messages' | 'tools' | 'maxTokens' | 'n'>;

/**
 * A rough count, deliberately: it only sizes the reservation, which is settled with the real
 * usage afterwards, and tokenizing every prompt before admission would cost more CPU than the
 * precision is worth. About four characters per token holds for English with BPE tokenizers.
 */
const CHARACTERS_PER_TOKEN = 4;
/** Role markers and separators the chat template adds per message. */
const TOKENS_PER_MESSAGE = 4;

export function estimatePromptTokens(chat: EstimatedRequest): number {
  let characters = 0;
  for (const message of chat.messages) {
    characters += message.content?.length ?? 0;
    if (message.role === 'assistant') {
      for (const call of message.toolCalls) characters += call.name.length + call.arguments.length;
    }
  }
  for (const tool of chat.tools) characters += JSON.stringify(tool).length;
  return Math.ceil(characters / CHARACTERS_PER_TOKEN) + TOKENS_PER_MESSAGE * chat.messages.length;
}

/** Prompt plus the most the request may generate (`max_tokens`, or the default when absent) for each choice. */
export function estimateRequestTokens(chat: EstimatedRequest, defaultCompletionTokens: number): number {
  return estimatePromptTokens(chat) + (chat.maxTokens ?? defaultCompletionTokens) * chat.n;
}
