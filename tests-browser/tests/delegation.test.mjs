// Delegation: the orchestrator hands the task to a specialist; the UI shows the hand-over and
// the specialist's messages under its agent path (vana › data_science), indented.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, login, screenshot, pickAgent, sendMessage, finalAnswer } from '../lib/browser.mjs';

const SPECIALIST = 'The data science specialist looked at it: the mean is 4.5.';
const SUMMARY = 'Summary from VANA: data_science found a mean of 4.5.';

let server;
let browser;

before(async () => {
  server = await startServer({
    turns: [
      { function_calls: [{ name: 'transfer_to_agent', args: { agent_name: 'data_science' }, id: 'call-transfer-1' }] },
      { text: SPECIALIST },
      { text: SUMMARY },
    ],
  });
  browser = await launch();
  await login(browser.page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('a hand-over to a specialist shows the agent path and nesting', async () => {
  const { page } = browser;
  await pickAgent(page, 'vana');
  await sendMessage(page, 'What is the mean of 0..9?');

  const handover = page.locator('.transcript .delegation').filter({ hasText: 'hands over to data_science' });
  await handover.waitFor();
  assert.match(await handover.textContent(), /vana\s*hands over to data_science/);

  const specialist = finalAnswer(page, SPECIALIST);
  await specialist.waitFor();
  assert.equal((await specialist.locator('.crumbs').textContent()).replace(/\s+/g, ' ').trim(), 'vana › data_science');
  const summary = finalAnswer(page, SUMMARY);
  await summary.waitFor();
  assert.equal((await summary.locator('.crumbs').textContent()).trim(), 'vana');

  // The specialist's message is indented under the orchestrator's.
  const [inner, outer] = await Promise.all([
    specialist.evaluate((el) => el.getBoundingClientRect().left),
    summary.evaluate((el) => el.getBoundingClientRect().left),
  ]);
  assert.ok(inner > outer, `nested message is indented (${inner} > ${outer})`);
  await screenshot(page, 'delegation');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
