// Delegation: the orchestrator hands the task to a specialist; the UI shows the hand-over and
// the specialist's messages under its agent path (vana › data_science), indented. The
// specialist's answer is the reply (no recap by the orchestrator); the next message starts at
// the orchestrator again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, login, screenshot, pickAgent, sendMessage, finalAnswer } from '../lib/browser.mjs';

const SPECIALIST = 'The data science specialist looked at it: the mean is 4.5.';
const FOLLOW_UP = 'VANA here again: data_science found a mean of 4.5.';

let server;
let browser;

before(async () => {
  server = await startServer({
    turns: [
      { function_calls: [{ name: 'transfer_to_agent', args: { agent_name: 'data_science' }, id: 'call-transfer-1' }] },
      { text: SPECIALIST },
      { text: FOLLOW_UP },
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
  // A follow-up starts at the orchestrator, shown at the top level.
  await sendMessage(page, 'And what did it find?');
  const followUp = finalAnswer(page, FOLLOW_UP);
  await followUp.waitFor();
  assert.equal((await followUp.locator('.crumbs').textContent()).trim(), 'vana');
  // The specialist's answer ended the first turn: the transcript reads question, hand-over,
  // specialist's answer, follow-up, orchestrator's answer (no recap between them).
  const order = await page.locator('.transcript .msg').evaluateAll((els) =>
    els.map((el) => (el.classList.contains('user') ? 'user' : el.dataset.author)));
  assert.deepEqual(order, ['user', 'data_science', 'user', 'vana']);

  // The specialist's message is indented under the orchestrator's.
  const [inner, outer] = await Promise.all([
    specialist.evaluate((el) => el.getBoundingClientRect().left),
    followUp.evaluate((el) => el.getBoundingClientRect().left),
  ]);
  assert.ok(inner > outer, `nested message is indented (${inner} > ${outer})`);
  await screenshot(page, 'delegation');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
