import type { ApiError } from '../common/api-error.js';
import { el, formatNumber } from '../common/dom.js';
import type { StreamListener, StreamResult } from './chat-stream.js';
import type { ToolCall } from './chat-types.js';

/**
 * One assistant answer as it streams: text appended to a single text node and tool-call arguments
 * to one text node per call, so each SSE event is exactly one DOM change.
 */
export class AnswerView implements StreamListener {
  readonly element: HTMLElement;
  readonly #content: HTMLElement;
  readonly #text: Text;
  readonly #calls: HTMLElement;
  readonly #callArguments: Text[] = [];
  readonly #meta: HTMLElement;

  constructor() {
    this.#text = document.createTextNode('');
    this.#content = el('div', { class: 'content' }, this.#text);
    this.#calls = el('div', { class: 'tool-calls' });
    this.#meta = el('div', { class: 'meta' }, 'waiting for the first token…');
    this.element = el(
      'article',
      { class: 'msg assistant', 'aria-busy': 'true' },
      el('div', { class: 'role' }, 'assistant'),
      this.#content,
      this.#calls,
      this.#meta,
    );
  }

  onContent(text: string): void {
    this.#text.appendData(text);
  }

  onToolCallStart(index: number, call: ToolCall): void {
    const argumentsText = document.createTextNode('');
    this.#callArguments[index] = argumentsText;
    this.#calls.append(
      el(
        'div',
        { class: 'tool-call', 'data-call-id': call.id },
        el(
          'div',
          { class: 'tool-name' },
          el('span', { class: 'badge' }, 'tool call'),
          ' ',
          call.function.name,
          el('span', { class: 'call-id' }, ` ${call.id}`),
        ),
        el('pre', { class: 'tool-args' }, argumentsText),
      ),
    );
  }

  onToolCallArguments(index: number, fragment: string): void {
    this.#callArguments[index]?.appendData(fragment);
  }

  /** Pretty-prints a json_schema answer once it is whole; a partial or invalid one stays as sent. */
  showJson(content: string): void {
    try {
      const pretty = JSON.stringify(JSON.parse(content), null, 2);
      this.#content.replaceChildren(el('pre', { class: 'json' }, pretty));
    } catch {
      this.#content.classList.add('not-json');
    }
  }

  finish(result: StreamResult): void {
    this.element.removeAttribute('aria-busy');
    if (result.content === '' && result.toolCalls.length === 0) this.#content.classList.add('empty');
    this.#meta.replaceChildren(...statsLine(result));
    if (result.error) this.element.append(errorBox(result.error));
  }
}

function statsLine(result: StreamResult): HTMLElement[] {
  const items: [string, string][] = [];
  const outcome = result.stopped ? 'stopped' : (result.finishReason ?? 'none');
  items.push(['finish', outcome]);
  if (result.ttftMs !== null) items.push(['TTFT', `${formatNumber(result.ttftMs)} ms`]);
  const completion = result.usage?.completion_tokens;
  if (completion !== undefined && result.generationMs !== null && result.generationMs > 0)
    items.push(['speed', `${formatNumber((completion / result.generationMs) * 1000, 1)} tok/s`]);
  if (result.usage) {
    items.push(['prompt', `${formatNumber(result.usage.prompt_tokens)} tok`]);
    items.push(['completion', `${formatNumber(result.usage.completion_tokens)} tok`]);
  }
  if (result.requestId) items.push(['id', result.requestId]);
  return items.map(([name, value]) =>
    el('span', { class: `stat stat-${name.toLowerCase()}` }, el('b', {}, name), ' ', value),
  );
}

function errorBox(error: ApiError): HTMLElement {
  return el(
    'div',
    { class: 'error', role: 'alert' },
    el('b', {}, error.status === null ? 'Error during the stream' : 'Error'),
    ' ',
    error.describe(),
  );
}

export function userMessageView(text: string, label = 'user'): HTMLElement {
  return el(
    'article',
    { class: `msg ${label === 'user' ? 'user' : 'tool'}` },
    el('div', { class: 'role' }, label),
    el('div', { class: 'content' }, text),
  );
}

/** The box under an answer that called tools: one result per call, then "Send results". */
export function toolResultForm(
  calls: ToolCall[],
  onSubmit: (results: { call: ToolCall; content: string }[]) => void,
): HTMLFormElement {
  const fields = calls.map((call) => {
    const area = el('textarea', { rows: 3, 'data-call-id': call.id, placeholder: '{"result": ...}' });
    return {
      call,
      area,
      label: el('label', { class: 'tool-result' }, `Result of ${call.function.name} (${call.id})`, area),
    };
  });
  const form = el(
    'form',
    { class: 'tool-results' },
    ...fields.map((field) => field.label),
    el('button', { type: 'submit' }, 'Send tool results'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    form.remove();
    onSubmit(fields.map((field) => ({ call: field.call, content: field.area.value })));
  });
  return form;
}
