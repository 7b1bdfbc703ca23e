import type { Page } from 'playwright-core';

/**
 * Runs in the page before its own script: wraps fetch so the test sees every request body and the
 * exact bytes of every response the page read (a tee, so the page's stream is untouched).
 */
const FETCH_RECORDER = `(() => {
  const inner = window.fetch.bind(window);
  window.__recorded = [];
  window.fetch = async (input, init) => {
    const entry = { url: String(input instanceof Request ? input.url : input), body: init && typeof init.body === 'string' ? init.body : null, status: 0, text: null };
    window.__recorded.push(entry);
    const response = await inner(input, init);
    entry.status = response.status;
    if (!response.body) return response;
    const [forPage, forRecord] = response.body.tee();
    entry.text = new Response(forRecord).text().catch(() => null);
    return new Response(forPage, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
})();`;

/**
 * Counts DOM changes in the transcript as they happen: each character-data change of an answer's
 * text, and for tool calls the order of events (a call's box appearing with its name, then each
 * growth of its arguments), with the length the arguments had at that moment.
 */
const MUTATION_PROBE = `(() => {
  const probe = { contentChanges: 0, contentBatches: 0, toolEvents: [] };
  window.__probe = probe;
  const start = () => {
    const transcript = document.getElementById('transcript');
    new MutationObserver((records) => {
      let sawContent = false;
      for (const record of records) {
        const parent = record.target.parentElement;
        if (record.type === 'characterData' && parent && parent.classList.contains('content')) {
          probe.contentChanges += 1;
          sawContent = true;
        }
        if (record.type === 'characterData' && parent && parent.classList.contains('tool-args')) {
          probe.toolEvents.push({ kind: 'arguments', length: record.target.data.length });
        }
        if (record.type === 'childList') {
          for (const node of record.addedNodes) {
            if (node.nodeType === 1 && node.classList.contains('tool-call')) {
              probe.toolEvents.push({ kind: 'call', name: node.querySelector('.tool-name').textContent, length: node.querySelector('.tool-args').textContent.length });
            }
          }
        }
      }
      if (sawContent) probe.contentBatches += 1;
    }).observe(transcript, { subtree: true, characterData: true, childList: true });
  };
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();`;

export interface RecordedExchange {
  url: string;
  body: string | null;
  status: number;
  text: string | null;
}

export interface Probe {
  contentChanges: number;
  contentBatches: number;
  toolEvents: ({ kind: 'call'; name: string; length: number } | { kind: 'arguments'; length: number })[];
}

export async function recordedExchanges(page: Page): Promise<RecordedExchange[]> {
  return (await page.evaluate(
    `Promise.all(window.__recorded.map(async (entry) => ({ url: entry.url, body: entry.body, status: entry.status, text: entry.text ? await entry.text : null })))`,
  )) as RecordedExchange[];
}

export async function probe(page: Page): Promise<Probe> {
  return (await page.evaluate('window.__probe')) as Probe;
}

/** Opens a page with the recorder and probe installed before the page's script runs. */
export async function installProbes(page: Page): Promise<void> {
  await page.addInitScript(FETCH_RECORDER);
  await page.addInitScript(MUTATION_PROBE);
}
