// A newcomer's dashboard: `vana serve --no-auth` on a fresh machine (empty data dir, nothing
// installed, no keys). No MCP server shows as down unless it was started and failed; those that
// need a key, an install or are disabled are neutral and say the one step that enables them.
// A server that is started and fails (a planted broken program) is then red.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile, mkdtemp, mkdir, chmod, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../lib/server.mjs';
import { launch, screenshot } from '../lib/browser.mjs';

let server;
let browser;

// No account keys reach the server, as on a fresh machine.
const KEYS = ['BRAVE_API_KEY', 'GITHUB_TOKEN', 'POSTGRES_URL', 'REDIS_URL', 'SENTRY_ACCESS_TOKEN', 'SLACK_BOT_TOKEN', 'KUBECONFIG'];

before(async () => {
  for (const k of KEYS) delete process.env[k];
  server = await startServer({
    noAuth: true,
    turns: [{ text: 'Hello from the scripted model.' }],
    // First use installs as on a real machine; nothing here uses a server that would.
    env: { VANA_MCP_AUTO_INSTALL: '1' },
  });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

const row = (page, name) => page.locator(`[data-card="mcp"] tr[data-name="${name}"]`);

test('a fresh server shows no MCP server as down; each waiting server says its one step', async () => {
  const snap = await (await fetch(`${server.url}/api/dashboard`)).json();
  const servers = snap.mcp.servers;
  assert.ok(servers.length >= 20, `${servers.length} servers`);
  assert.deepEqual(servers.filter((s) => s.state === 'down').map((s) => s.name), [], 'none down');
  const byName = Object.fromEntries(servers.map((s) => [s.name, s]));
  assert.equal(byName.brave_search.state, 'needs_key');
  assert.equal(byName.time.state, 'not_installed');

  const { page } = browser;
  await page.goto(`${server.url}/#/dashboard`);
  await row(page, 'time').waitFor();
  assert.equal(await page.locator('[data-card="mcp"] tr.down').count(), 0, 'no red row');
  assert.equal(await row(page, 'brave_search').locator('[data-field="state"]').textContent(), 'needs a key');
  assert.match(await row(page, 'brave_search').locator('[data-field="step"]').textContent(), /set BRAVE_API_KEY to enable it/);
  assert.equal(await row(page, 'time').locator('[data-field="state"]').textContent(), 'not installed');
  assert.match(await row(page, 'time').locator('[data-field="step"]').textContent(), /installs on first use, or now with `vana mcp install time`/);
  assert.match(await row(page, 'time').getAttribute('class'), /idle/);
  // A neutral step is not presented as an error.
  assert.equal(await page.locator('[data-card="mcp"] th', { hasText: 'Last error' }).count(), 0);
  await screenshot(page, 'mcp-states-fresh');
  assert.deepEqual(browser.errors.map(String), []);
});

test('a server that was started and failed is shown as down, in red', async () => {
  // An MCP home whose `mcp-server-time` exits at once: `time` is ready until a run of `vana`
  // (its agent) starts it; nothing is installed on first use here.
  const mcpHome = await mkdtemp(join(tmpdir(), 'vana-mcp-home-'));
  await mkdir(join(mcpHome, 'bin'));
  await writeFile(join(mcpHome, 'bin', 'mcp-server-time'), '#!/bin/sh\necho "cannot start" >&2\nexit 1\n');
  await chmod(join(mcpHome, 'bin', 'mcp-server-time'), 0o755);
  const broken = await startServer({
    noAuth: true,
    turns: [{ text: 'Ran with a broken time server.' }],
    env: { VANA_MCP_HOME: mcpHome, VANA_MCP_AUTO_INSTALL: '0' },
  });
  try {
    const before = (await (await fetch(`${broken.url}/api/dashboard`)).json()).mcp.servers;
    assert.equal(before.find((s) => s.name === 'time').state, 'ready');
    const base = `${broken.url}/apps/vana/users/newcomer/sessions`;
    const s = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(s.status, 200, await s.clone().text());
    const { id } = await s.json();
    const r = await fetch(`${broken.url}/run_sse`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ appName: 'vana', userId: 'newcomer', sessionId: id, newMessage: { role: 'user', parts: [{ text: 'hi' }] }, streaming: true }),
    });
    assert.equal(r.status, 200);
    await r.text();
    const after = (await (await fetch(`${broken.url}/api/dashboard`)).json()).mcp.servers;
    assert.deepEqual(after.filter((x) => x.state === 'down').map((x) => x.name), ['time']);

    const { page } = browser;
    await page.goto(`${broken.url}/#/dashboard`);
    const time = row(page, 'time');
    await time.waitFor();
    await page.locator('[data-card="mcp"] tr.down[data-name="time"]').waitFor();
    assert.equal(await time.locator('[data-field="state"]').textContent(), '✕ down');
    assert.match(await time.locator('[data-field="lastError"]').textContent(), /cannot start|exit/);
    const color = (loc) => loc.evaluate((el) => getComputedStyle(el).color);
    const neutral = row(page, 'brave_search').locator('[data-field="state"]');
    assert.notEqual(await color(time.locator('[data-field="state"]')), await color(neutral), 'down stands out');
    assert.equal(await page.locator('[data-card="mcp"] tr.down').count(), 1, 'only the started server is red');
    await screenshot(page, 'mcp-states-down');
  } finally {
    await broken.stop();
    await rm(mcpHome, { recursive: true, force: true });
  }
});
