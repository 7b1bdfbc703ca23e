import '../common/base.css';
import './playground.css';
import { ApiError } from '../common/api-error.js';
import { byId, el } from '../common/dom.js';
import { loadSetting, saveSetting } from '../common/storage.js';
import { AnswerView, toolResultForm, userMessageView } from './answer-view.js';
import { streamChat } from './chat-stream.js';
import type { ChatMessage, ChatRequestBody } from './chat-types.js';
import { describeModel, listModels, type ModelEntry } from './models.js';
import { buildRequestBody, toolNames } from './request-form.js';
import { requestSnippet, type SnippetLanguage } from './snippets.js';

const BASE_URL = `${location.origin}/v1/inference`;
const KEY_SETTING = 'oruel.playground.apiKey';
const MODEL_SETTING = 'oruel.playground.model';

const keyInput = byId<HTMLInputElement>('api-key');
const modelSelect = byId<HTMLSelectElement>('model');
const modelInfo = byId('model-info');
const transcript = byId('transcript');
const prompt = byId<HTMLTextAreaElement>('prompt');
const sendButton = byId<HTMLButtonElement>('send');
const stopButton = byId<HTMLButtonElement>('stop');
const copyButton = byId<HTMLButtonElement>('copy');
const statusLine = byId('status');
const snippet = byId('snippet');

let messages: ChatMessage[] = [];
let models: ModelEntry[] = [];
let running: AbortController | null = null;
let lastRequest: ChatRequestBody | null = null;

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`;
}

async function loadModels(): Promise<void> {
  const key = keyInput.value.trim();
  modelSelect.replaceChildren();
  modelInfo.textContent = '';
  if (!key) {
    setStatus('Enter an API key (oruel_…) to load the models.');
    return;
  }
  try {
    models = await listModels(BASE_URL, key);
  } catch (error) {
    setStatus(error instanceof ApiError ? error.describe() : String(error), 'error');
    return;
  }
  const remembered = loadSetting(localStorage, MODEL_SETTING);
  for (const model of models)
    modelSelect.append(el('option', { value: model.id, selected: model.id === remembered }, model.id));
  showModelInfo();
  setStatus(models.length === 0 ? 'This key may use no model.' : '');
}

function showModelInfo(): void {
  const model = models.find((entry) => entry.id === modelSelect.value);
  modelInfo.textContent = model ? describeModel(model) : '';
}

function refreshToolChoices(): void {
  const select = byId<HTMLSelectElement>('tool-choice');
  const current = select.value;
  const options = ['auto', 'required', 'none', ...toolNames()];
  select.replaceChildren(...options.map((name) => el('option', { value: name, selected: name === current }, name)));
}

function setRunning(controller: AbortController | null): void {
  running = controller;
  sendButton.disabled = controller !== null;
  stopButton.disabled = controller === null;
}

/** Sends the conversation so far and streams the answer into a new card. */
async function runTurn(): Promise<void> {
  let body: ChatRequestBody;
  try {
    body = buildRequestBody(messages);
  } catch (error) {
    setStatus((error as Error).message, 'error');
    return;
  }
  lastRequest = body;
  showSnippet();
  const view = new AnswerView();
  transcript.append(view.element);
  view.element.scrollIntoView({ block: 'end' });
  const controller = new AbortController();
  setRunning(controller);
  setStatus('Streaming… (Escape to stop)');
  const result = await streamChat(BASE_URL, keyInput.value.trim(), body, controller.signal, view);
  setRunning(null);
  if (body['response_format'] && result.finishReason === 'stop') view.showJson(result.content);
  view.finish(result);
  setStatus(result.stopped ? 'Stopped.' : result.error ? 'The request failed.' : '', result.error ? 'error' : 'info');
  if (result.content !== '' || result.toolCalls.length > 0) {
    messages.push({
      role: 'assistant',
      content: result.content === '' ? null : result.content,
      ...(result.toolCalls.length > 0 ? { tool_calls: result.toolCalls } : {}),
    });
  }
  if (result.toolCalls.length > 0 && !result.stopped && !result.error) {
    const form = toolResultForm(result.toolCalls, (results) => {
      for (const { call, content } of results) {
        messages.push({ role: 'tool', tool_call_id: call.id, content });
        transcript.append(userMessageView(content, `tool · ${call.function.name}`));
      }
      void runTurn();
    });
    transcript.append(form);
    form.querySelector('textarea')?.focus();
  }
}

function send(): void {
  if (running) return;
  const text = prompt.value.trim();
  if (!text) return;
  messages.push({ role: 'user', content: text });
  transcript.append(userMessageView(text));
  prompt.value = '';
  void runTurn();
}

function stop(): void {
  running?.abort();
}

function showSnippet(): void {
  if (!lastRequest) return;
  const language = byId<HTMLSelectElement>('snippet-language').value as SnippetLanguage;
  snippet.textContent = requestSnippet(language, BASE_URL, lastRequest);
  copyButton.disabled = false;
}

async function copySnippet(): Promise<void> {
  showSnippet();
  byId<HTMLDetailsElement>('snippet-panel').open = true;
  try {
    await navigator.clipboard.writeText(snippet.textContent ?? '');
    setStatus('Copied the request to the clipboard.');
  } catch {
    // No clipboard permission: the code is shown below, selected, ready for Ctrl+C.
    getSelection()?.selectAllChildren(snippet);
    setStatus('Select and copy the request below.');
  }
}

keyInput.value = loadSetting(localStorage, KEY_SETTING);
keyInput.addEventListener('change', () => {
  saveSetting(localStorage, KEY_SETTING, keyInput.value.trim());
  void loadModels();
});
modelSelect.addEventListener('change', () => {
  saveSetting(localStorage, MODEL_SETTING, modelSelect.value);
  showModelInfo();
});
byId('tools').addEventListener('input', refreshToolChoices);
byId('composer').addEventListener('submit', (event) => {
  event.preventDefault();
  send();
});
prompt.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    send();
  }
});
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && running) {
    event.preventDefault();
    stop();
  }
});
stopButton.addEventListener('click', stop);
byId('clear').addEventListener('click', () => {
  stop();
  messages = [];
  transcript.replaceChildren();
  setStatus('');
});
byId('snippet-language').addEventListener('change', showSnippet);
copyButton.addEventListener('click', () => void copySnippet());
refreshToolChoices();
void loadModels();
