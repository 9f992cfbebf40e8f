// Audit: a run made in the chat is found by searching the audit log, filters narrow the
// results, and the entry links back to the session.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, login, screenshot, pickAgent, sendMessage, currentSession, finalAnswer } from '../lib/browser.mjs';

const MARKER = `zebracrossing${Date.now().toString(36)}`;
const ANSWER = 'Noted, I will remember the zebra.';

let server;
let browser;
let session;

before(async () => {
  server = await startServer({ turns: [{ text: ANSWER }] });
  browser = await launch();
  await login(browser.page, server);
  const { page } = browser;
  await pickAgent(page, 'code_execution');
  await sendMessage(page, `Remember the word ${MARKER} for me.`);
  await finalAnswer(page, ANSWER).waitFor();
  session = await currentSession(page);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('searching the audit log finds the run made in the chat', async () => {
  const { page } = browser;
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.getByRole('heading', { name: 'Audit log' }).waitFor();
  await page.getByRole('searchbox', { name: 'Search' }).fill(MARKER);
  await page.getByRole('button', { name: 'Search', exact: true }).click();

  const rows = page.locator(`table.audit tbody tr[data-session="${session}"]`);
  await rows.first().waitFor();
  const run = rows.filter({ hasText: 'code_execution' }).filter({ hasText: 'tester' });
  assert.ok((await run.count()) >= 1, 'the entry names the agent and the user');
  assert.match(await page.getByRole('status').filter({ hasText: /entr/ }).textContent(), /^\d+ entr(y|ies)$/);
  await screenshot(page, 'audit');

  // Nothing else matches this marker: every row found belongs to that session.
  const all = page.locator('table.audit tbody tr');
  assert.equal(await all.count(), await rows.count(), 'only the run\'s own entries match');
});

test('filters narrow the results and an entry opens its session', async () => {
  const { page } = browser;
  // Another agent: no match.
  await page.getByLabel('Agent').selectOption('nlp');
  await page.getByText('Nothing matches these filters.').waitFor();
  // The right agent again.
  await page.getByLabel('Agent').selectOption('code_execution');
  await page.locator(`table.audit tbody tr[data-session="${session}"]`).first().waitFor();
  // Kind: the run is a `run`, not a `login`.
  await page.getByLabel('Kind').selectOption('login');
  await page.getByText('Nothing matches these filters.').waitFor();
  await page.getByLabel('Kind').selectOption('run');
  await page.locator(`table.audit tbody tr[data-session="${session}"][data-kind="run"]`).first().waitFor();
  // A time window in the future: no match.
  await page.getByLabel('From').fill('2999-01-01T00:00');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByText('Nothing matches these filters.').waitFor();
  await page.getByLabel('From').fill('');
  await page.getByRole('button', { name: 'Search', exact: true }).click();

  // The session link opens the conversation.
  await page.locator(`table.audit tbody tr[data-session="${session}"] a`).first().click();
  await finalAnswer(page, ANSWER).waitFor();
  assert.equal(await currentSession(page), session);
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
