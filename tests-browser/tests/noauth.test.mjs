// --no-auth: the UI skips the login dialog and chats straight away; errors are shown.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, screenshot, pickAgent, sendMessage, finalAnswer } from '../lib/browser.mjs';

// Model output that would run script if it were parsed as HTML.
const HOSTILE = 'Hello without a key. <img src=x onerror="window.__xss=1"><script>window.__xss=2</script> <b>not bold</b>';

let server;
let browser;

before(async () => {
  server = await startServer({
    noAuth: true,
    turns: [
      { text: HOSTILE },
      { error: { kind: 'rejected', status: 400, message: 'scripted rejection for the UI test' } },
    ],
  });
  browser = await launch({ viewport: { width: 390, height: 844 } });
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('without auth there is no login; model output is shown as text and a model error is shown', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/#/chat`);
  await page.getByText('(no authentication)').waitFor();
  assert.equal(await page.getByRole('dialog', { name: 'Sign in to VANA' }).isVisible(), false);
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).isVisible(), false);

  await pickAgent(page, 'code_execution');
  await sendMessage(page, 'hello');
  const answer = finalAnswer(page, 'Hello without a key.');
  await answer.waitFor();
  // Shown as text, never parsed as HTML.
  assert.equal((await answer.locator('.body').textContent()).trim(), HOSTILE);
  assert.equal(await answer.locator('img, script, b').count(), 0);
  assert.equal(await page.evaluate(() => window.__xss), undefined);

  await sendMessage(page, 'now fail');
  const err = page.locator('.transcript .error[role="alert"]');
  await err.waitFor();
  assert.match(await err.textContent(), /scripted rejection for the UI test/);
  await screenshot(page, 'chat-mobile');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
