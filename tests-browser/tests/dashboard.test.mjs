// Dashboard: open it, run an agent, and watch its counters move live (no page reload).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, login, screenshot } from '../lib/browser.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({
    turns: [
      { text: 'First dashboard run.', usage: { prompt_tokens: 30, completion_tokens: 5 } },
      { text: 'Second dashboard run.', usage: { prompt_tokens: 31, completion_tokens: 6 } },
    ],
  });
  browser = await launch();
  await login(browser.page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** One run of code_execution through the API, with the browser's session cookie. */
async function runOnce(text) {
  const req = browser.context.request;
  const base = `${server.url}/apps/code_execution/users/tester/sessions`;
  const s = await req.post(base, { data: {} });
  assert.equal(s.status(), 200, await s.text());
  const { id } = await s.json();
  const r = await req.post(`${server.url}/run_sse`, {
    data: { appName: 'code_execution', userId: 'tester', sessionId: id, newMessage: { role: 'user', parts: [{ text }] }, streaming: true },
  });
  assert.equal(r.status(), 200, await r.text());
  assert.match(await r.text(), /"turnComplete"|dashboard run/);
}

/** The number shown in the code_execution row for a field, or 0 when the row is absent. */
async function agentCell(page, field) {
  const cell = page.locator(`[data-card="agents"] tr[data-name="code_execution"] [data-field="${field}"]`);
  if (!(await cell.count())) return 0;
  const n = Number((await cell.textContent()).replace(/[^\d.]/g, ''));
  assert.ok(Number.isFinite(n), `${field} is a number`);
  return n;
}

test('the dashboard shows live process figures and its counters move after a run', async () => {
  const { page } = browser;
  await page.getByRole('link', { name: 'Dashboard' }).click();
  await page.getByRole('heading', { name: 'Monitoring' }).waitFor();
  await page.locator('.live').filter({ hasText: 'Live' }).waitFor();

  // Process figures are real measurements: memory in bytes units, an uptime.
  const proc = page.locator('[data-card="process"]');
  await proc.locator('[data-field="rssBytes"] dd').filter({ hasText: /\d\s*(KiB|MiB|GiB)/ }).waitFor();
  await proc.locator('[data-field="uptimeSecs"] dd').filter({ hasText: /\d+(s|m|h|d)/ }).waitFor();

  // The page must update without reloading: mark this document.
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const before = { requests: await agentCell(page, 'requests'), tokensIn: await agentCell(page, 'tokensIn') };

  await runOnce('count this run');
  await page.waitForFunction(
    (n) => {
      const c = document.querySelector('[data-card="agents"] tr[data-name="code_execution"] [data-field="requests"]');
      return c && Number(c.textContent.replace(/[^\d.]/g, '')) > n;
    },
    before.requests,
    { timeout: 15_000 },
  );
  const mid = { requests: await agentCell(page, 'requests'), tokensIn: await agentCell(page, 'tokensIn') };
  assert.ok(mid.requests > before.requests, `requests moved: ${before.requests} -> ${mid.requests}`);
  await page.waitForFunction(
    (n) => {
      const c = document.querySelector('[data-card="agents"] tr[data-name="code_execution"] [data-field="tokensIn"]');
      return c && Number(c.textContent.replace(/[^\d.]/g, '')) >= n;
    },
    before.tokensIn + 30,
    { timeout: 15_000 },
  );

  await runOnce('and count this one too');
  await page.waitForFunction(
    (n) => {
      const c = document.querySelector('[data-card="agents"] tr[data-name="code_execution"] [data-field="requests"]');
      return c && Number(c.textContent.replace(/[^\d.]/g, '')) > n;
    },
    mid.requests,
    { timeout: 15_000 },
  );
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'updated live, without a reload');
  assert.equal(await page.locator('[data-card="agents"] .muted', { hasText: 'no data yet' }).count(), 0);
  // The tool suites: what each has, and whether it is ready.
  const code = page.locator('[data-card="suites"] [data-suite="code"]');
  await code.waitFor();
  assert.match(await code.textContent(), /code — (ready|needs setup):.*execute_code/s);
  assert.match(await page.locator('[data-card="suites"] [data-suite="sql"]').textContent(), /execute_sql_query/);
  assert.match(await page.locator('[data-card="suites"] [data-suite="nlp"]').textContent(), /analyze_sentiment/);
  await screenshot(page, 'dashboard');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
