// Approvals: a tool that requires confirmation pauses the run; the UI shows Approve/Deny,
// sends the decision to the approvals endpoint and streams the continuation.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, vana } from '../lib/server.mjs';
import { launch, login, screenshot, pickAgent, sendMessage, finalAnswer } from '../lib/browser.mjs';

/**
 * The tool that needs a human's approval, and arguments it accepts: the server is started with
 * `[guardrails] require_confirmation = ["execute_code"]` (as an environment override), so the
 * real sandbox tool pauses for approval. The before() hook checks this against the binary.
 */
const APPROVAL_TOOL = 'execute_code';
const APPROVAL_ARGS = { language: 'python', code: "print('approved run')" };
const AFTER_APPROVE = 'Approved and done: the tool ran.';
const AFTER_DENY = 'Understood, I did not run it.';

let server;
let browser;
let agent;

before(async () => {
  server = await startServer({
    turns: [
      { function_calls: [{ name: APPROVAL_TOOL, args: APPROVAL_ARGS, id: 'call-approve-1' }] },
      { text: AFTER_APPROVE },
      { function_calls: [{ name: APPROVAL_TOOL, args: APPROVAL_ARGS, id: 'call-deny-1' }] },
      { text: AFTER_DENY },
    ],
    env: { VANA_GUARDRAILS_REQUIRE_CONFIRMATION: `["${APPROVAL_TOOL}"]` },
  });
  // Which agent owns the tool, and does the tool really require confirmation?
  const tools = JSON.parse((await vana(server, ['tools', 'list', '--json'])).stdout);
  const tool = (Array.isArray(tools) ? tools : tools.tools || []).find((t) => t.name === APPROVAL_TOOL);
  assert.ok(tool, `tool ${APPROVAL_TOOL} is not registered in this binary (set VANA_APPROVAL_TOOL to a tool with requires_confirmation)`);
  assert.equal(tool.requiresConfirmation, true, `tool ${APPROVAL_TOOL} does not require confirmation (set VANA_APPROVAL_TOOL to one that does)`);
  agent = (tool.agents || []).find((a) => a !== 'vana') || (tool.agents || [])[0];
  assert.ok(agent, `no agent of the catalog uses ${APPROVAL_TOOL}`);
  browser = await launch();
  await login(browser.page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('approving a paused tool call runs it and streams the continuation', async () => {
  const { page } = browser;
  await pickAgent(page, agent);
  await sendMessage(page, `Please use ${APPROVAL_TOOL}.`);

  const card = page.locator('.approval[data-call-id="call-approve-1"]');
  await card.waitFor();
  assert.match(await card.textContent(), new RegExp(`Approval needed:\\s*${APPROVAL_TOOL}`));
  const toolCard = page.locator('.tool-card[data-call-id="call-approve-1"]');
  await toolCard.locator('.status').filter({ hasText: 'waiting for approval' }).waitFor();
  await screenshot(page, 'approval');

  await card.getByRole('button', { name: 'Approve' }).click();
  await card.getByText('✓ Approved').waitFor();
  assert.equal(await card.getByRole('button').count(), 0, 'the buttons are gone once decided');
  await finalAnswer(page, AFTER_APPROVE).waitFor();
  // The tool really ran: its card holds a result, not the denial.
  await toolCard.locator('.result').filter({ hasText: 'approved run' }).waitFor();
  assert.doesNotMatch(await toolCard.locator('.result').textContent(), /denied/);
  assert.notEqual((await toolCard.locator('.status').textContent()).trim(), 'waiting for approval');
});

test('denying a paused tool call tells the agent, which answers', async () => {
  const { page } = browser;
  await sendMessage(page, `Use ${APPROVAL_TOOL} again.`);
  const card = page.locator('.approval[data-call-id="call-deny-1"]');
  await card.getByRole('button', { name: 'Deny' }).click();
  await card.getByText('✗ Denied').waitFor();
  await finalAnswer(page, AFTER_DENY).waitFor();
  const toolCard = page.locator('.tool-card[data-call-id="call-deny-1"]');
  await toolCard.locator('.result').filter({ hasText: 'the user denied this tool call' }).waitFor();

  // After a reload the decisions are still shown, from the stored events.
  await page.reload();
  await page.locator('.approval[data-call-id="call-approve-1"]').getByText('✓ Approved').waitFor();
  await page.locator('.approval[data-call-id="call-deny-1"]').getByText('✗ Denied').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0);
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
