import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, layoutProblems } from './web-harness.js';

/** The layout check the page tests rely on must itself see overlap, clipping and overflow. */
describe('layoutProblems', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(() => browser?.close());

  async function problemsOf(html: string) {
    const page = await browser.newPage({ viewport: { width: 400, height: 300 } });
    await page.setContent(`<!doctype html><html><body style="margin:0;font:16px sans-serif">${html}</body></html>`);
    const problems = await layoutProblems(page);
    await page.close();
    return problems;
  }

  it('finds nothing wrong in plain flowing text and controls', async () => {
    expect(
      await problemsOf(
        '<p>One paragraph of text.</p><p>Another one.</p><label>Name <input></label><button>Go</button>',
      ),
    ).toEqual([]);
  });

  it('reports text drawn over other text', async () => {
    const problems = await problemsOf(
      '<div style="position:absolute;top:10px;left:10px">First label</div><div style="position:absolute;top:14px;left:20px">Second label</div>',
    );
    expect(problems.map((problem) => problem.kind)).toContain('overlap');
  });

  it('reports text clipped by its box and text beyond the viewport', async () => {
    const clipped = await problemsOf(
      '<div style="width:60px;overflow:hidden;white-space:nowrap">A label far too long for its box</div>',
    );
    expect(clipped.map((problem) => problem.kind)).toContain('cut-off');
    const wide = await problemsOf(
      '<div style="white-space:nowrap">A line of text that does not wrap and runs well past the right edge of a phone</div>',
    );
    expect(wide.map((problem) => problem.kind)).toContain('off-screen');
  });

  it('reports a button overlapping text', async () => {
    const problems = await problemsOf(
      '<p style="margin:0">Some words here</p><button style="position:absolute;top:0;left:10px">Button</button>',
    );
    expect(problems.some((problem) => problem.kind === 'overlap')).toBe(true);
  });
});
