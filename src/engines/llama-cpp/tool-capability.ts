import { JinjaTemplateChatWrapper, type ChatWrapper } from 'node-llama-cpp';

/** Chat formats with no tool-calling convention of their own (node-llama-cpp wrapper names). */
const WITHOUT_TOOLS = new Set([
  'General',
  'Llama2Chat',
  'AlpacaChat',
  'ChatML',
  'FalconChat',
  'Empty',
  'Template',
  'Gemma',
]);

/**
 * Whether the model's chat format knows tool calls: a Jinja template with a tool-call syntax, or one of
 * node-llama-cpp's tool-aware formats (Llama 3.1, Qwen, Mistral, Functionary, ...). A model without one
 * is told so (a 400 naming `tools`) rather than given a syntax it was never trained on.
 */
export function supportsTools(chatWrapper: ChatWrapper): boolean {
  if (chatWrapper instanceof JinjaTemplateChatWrapper) return chatWrapper.usingJinjaFunctionCallTemplate;
  return !WITHOUT_TOOLS.has(chatWrapper.wrapperName);
}
