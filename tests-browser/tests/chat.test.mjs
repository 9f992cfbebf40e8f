// Chat: sign in, pick code_execution in the dropdown, send a message, watch the answer stream
// in and the execute_code tool card show the sandbox's real output; then sessions (new,
// switch, delete) and reload.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, catalog } from '../lib/server.mjs';
import { launch, screenshot, pickAgent, sendMessage, currentSession, finalAnswer, recordStreaming } from '../lib/browser.mjs';

const CODE = "print(sum(range(10)))\nimport sys\nprint('careful: stderr works', file=sys.stderr)";
const ANSWER = 'The program printed 45 and wrote a warning to stderr, all inside the sandbox.';
const SECOND = 'This is the second session speaking.';
// A 40×20 PNG written by plain Python (no libraries) into the session's workspace.
const CHART_CODE = [
  'import zlib, struct',
  'w, h = 40, 20',
  "raw = b''.join(b'\\x00' + bytes([255, 80, 0]) * w for _ in range(h))",
  "def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)",
  "png = b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b'')",
  "open('/workspace/chart.png', 'wb').write(png)",
  "print('saved chart.png')",
].join('\n');
const CHART_ANSWER = 'Here is the chart I drew.';
// The user's own agent, whose one tool this build does not have.
const HOLOGRAM = { name: 'hologram_studio', description: 'Renders holograms of logos.' };
const HOLOGRAM_YAML = `name: ${HOLOGRAM.name}\ndescription: ${HOLOGRAM.description}\ninstruction: Render holograms with render_hologram.\ntools: [render_hologram]\n`;

let server;
let browser;

before(async () => {
  server = await startServer({
    turns: [
      { function_calls: [{ name: 'execute_code', args: { language: 'python', code: CODE }, id: 'call-exec-1' }] },
      { text: ANSWER, usage: { prompt_tokens: 42, completion_tokens: 17 } },
      { function_calls: [{ name: 'execute_code', args: { language: 'python', code: CHART_CODE }, id: 'call-chart-1' }] },
      { text: CHART_ANSWER },
      { text: SECOND },
    ],
    agents: { [HOLOGRAM.name]: HOLOGRAM_YAML },
  });
  browser = await launch();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('a wrong key is refused and a good key signs in', async () => {
  const { page } = browser;
  await page.goto(`${server.url}/`);
  const dialog = page.getByRole('dialog', { name: 'Sign in to VANA' });
  await dialog.getByLabel('API key').fill('vana_000000000000_0000000000000000deadbeef');
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await dialog.getByRole('alert').filter({ hasText: 'That API key is not valid.' }).waitFor();
  assert.equal(await dialog.isVisible(), true, 'the login dialog stays open after a bad key');

  await dialog.getByLabel('API key').fill(server.key);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText('Signed in as tester').waitFor();
  await dialog.waitFor({ state: 'hidden' });
});

test('the agent dropdown lists every agent of the catalog with its description', async () => {
  const { page } = browser;
  const agents = [...(await catalog()), HOLOGRAM];
  assert.ok(agents.length >= 3, 'the built-in catalog has agents');
  const select = page.getByLabel('Agent', { exact: true });
  const options = await select.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, label: o.textContent, title: o.title })));
  assert.deepEqual(options.map((o) => o.value).sort(), agents.map((a) => a.name).sort());
  for (const a of agents) {
    const o = options.find((x) => x.value === a.name);
    assert.equal(o.title, a.description, `${a.name}'s option carries its description`);
    assert.ok(o.label.startsWith(`${a.name} — ${a.description.slice(0, 20)}`), `${a.name}'s option shows its description: ${o.label}`);
  }
  await pickAgent(page, 'code_execution');
  const desc = agents.find((a) => a.name === 'code_execution').description;
  await page.locator('#agent-desc').filter({ hasText: desc }).waitFor();
});

test('an agent with none of its tools installed is marked in the dropdown and says what it lacks', async () => {
  const { page } = browser;
  const agents = await page.evaluate(() => fetch('/api/agents').then((r) => r.json()));
  const holo = agents.find((a) => a.name === HOLOGRAM.name);
  assert.equal(holo.available, false, 'the user\'s agent lacks its one tool');
  assert.deepEqual(holo.missingTools, ['render_hologram'], JSON.stringify(holo));
  assert.equal(agents.find((a) => a.name === 'code_execution').available, true);
  const select = page.getByLabel('Agent', { exact: true });
  const label = await select.locator(`option[value="${HOLOGRAM.name}"]`).textContent();
  assert.ok(label.endsWith('(tools not installed)'), label);
  const ok = await select.locator('option[value="code_execution"]').textContent();
  assert.ok(!ok.includes('not installed'), ok);
  await pickAgent(page, HOLOGRAM.name);
  await page.locator('#agent-desc').filter({ hasText: 'None of its tools is installed here (render_hologram' }).waitFor();
  await pickAgent(page, 'code_execution');
});

test('a message to code_execution streams its answer token by token, with the tool card under the agent', async () => {
  const { page } = browser;
  const streamed = await recordStreaming(page);
  try {
    await sendMessage(page, 'Add up the numbers 0 to 9 with Python, please.');

    // The user's message shows at once.
    await page.locator('.transcript .msg.user').filter({ hasText: 'Add up the numbers 0 to 9 with Python, please.' }).waitFor();

    // The tool card: the tool, under code_execution, with the code it was given.
    const card = page.locator('.tool-card[data-call-id="call-exec-1"]');
    await card.waitFor();
    assert.equal((await card.locator('.tool-name').textContent()).trim(), 'execute_code');
    assert.match(await card.locator('.crumbs').textContent(), /code_execution/);
    assert.equal((await card.locator('pre.code').textContent()).trim(), CODE);

    // The answer streamed in pieces, then the final text replaced them.
    const answer = finalAnswer(page, ANSWER);
    await answer.waitFor();
    assert.equal((await answer.locator('.body').textContent()).trim(), ANSWER);
    assert.match(await answer.locator('.crumbs').textContent(), /code_execution/);
    assert.match(await answer.locator('.foot').textContent(), /42 tokens in · 17 out/);
    const seen = await streamed();
    assert.ok(
      seen.some((t) => t.length > 0 && t.length < ANSWER.length && ANSWER.startsWith(t)),
      `a partial answer was visible while streaming (saw: ${JSON.stringify(seen)})`,
    );
    assert.equal(await page.locator('.transcript .msg.streaming').count(), 0, 'no bubble is left streaming');
    // The card got its result before the answer (whatever it is; the next test checks it).
    assert.notEqual((await card.locator('.status').textContent()).trim(), 'running…');
    assert.match(await card.locator('.time').textContent(), /[\d.,]+\s*(ms|s)/, 'the card shows how long the tool took');
  } finally {
    await screenshot(page, 'chat');
  }
});

test('the execute_code card shows the sandbox\'s real stdout, stderr and resource usage', async () => {
  const { page } = browser;
  const card = page.locator('.tool-card[data-call-id="call-exec-1"]');
  const result = (await card.locator('.result').textContent()).trim();
  assert.equal((await card.locator('.status').textContent()).trim(), 'done', `the run succeeded (the card shows: ${result})`);
  assert.equal((await card.locator('pre.stdout').textContent()).trim(), '45', 'stdout of the real run');
  assert.match(await card.locator('pre.stderr').textContent(), /careful: stderr works/);
  const stats = await card.locator('dl.stats').textContent();
  assert.match(stats, /Exit code\s*0/);
  assert.match(stats, /Wall time\s*[\d.,]+\s*(ms|s)/);
  assert.match(stats, /Peak memory\s*[\d.,]+\s*(B|KiB|MiB|GiB)/);
  assert.equal(await page.locator('.transcript .error').count(), 0, 'no error is shown');
});

test('an image the code saves in the workspace is shown inline', async () => {
  const { page } = browser;
  await sendMessage(page, 'Draw me a small chart.');
  const card = page.locator('.tool-card[data-call-id="call-chart-1"]');
  await finalAnswer(page, CHART_ANSWER).waitFor();
  const result = (await card.locator('.result').textContent()).trim();
  assert.equal((await card.locator('.status').textContent()).trim(), 'done', `the run succeeded (the card shows: ${result})`);
  assert.equal((await card.locator('pre.stdout').textContent()).trim(), 'saved chart.png');
  const img = page.locator('.transcript .media img').last();
  await img.waitFor();
  await page.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle());
  const size = await img.evaluate((el) => [el.naturalWidth, el.naturalHeight]);
  assert.deepEqual(size, [40, 20], 'the PNG the sandbox wrote is decoded and shown');
  assert.match(await page.locator('.transcript .media figcaption').last().textContent(), /chart\.png/);
});

test('a session takes its title from the first message on the server, and is renamed in the UI', async () => {
  const { page } = browser;
  const id = await currentSession(page);
  const listed = async () => {
    const r = await browser.context.request.get(`${server.url}/apps/code_execution/users/tester/sessions`);
    assert.equal(r.status(), 200);
    return (await r.json()).find((s) => s.id === id);
  };
  assert.equal((await listed()).state['vana:title'], 'Add up the numbers 0 to 9 with Python, please.');

  await page.getByRole('button', { name: 'Rename session' }).click();
  const field = page.getByLabel('Session title');
  assert.equal(await field.inputValue(), 'Add up the numbers 0 to 9 with Python, please.');
  await field.fill('  Sum   check ');
  await field.press('Enter');
  await page.getByRole('heading', { name: 'Sum check' }).waitFor();
  const list = page.getByRole('list', { name: 'Sessions' });
  await list.getByRole('button', { name: /^Sum check/ }).waitFor();
  assert.equal((await listed()).state['vana:title'], 'Sum check', 'the new title is the session\'s state on the server');

  // Escape leaves the title as it was; nothing is sent.
  await page.getByRole('button', { name: 'Rename session' }).click();
  await field.fill('Not this');
  await field.press('Escape');
  await page.getByRole('heading', { name: 'Sum check' }).waitFor();
  assert.equal((await listed()).state['vana:title'], 'Sum check');

  // Another browser (no local storage) sees the same title.
  await page.evaluate(() => { localStorage.clear(); sessionStorage.clear(); });
  await page.goto(`${server.url}/#/chat?agent=code_execution&session=${id}`);
  await page.getByRole('heading', { name: 'Sum check' }).waitFor();

  // Put the first title back for the tests that follow.
  await page.getByRole('button', { name: 'Rename session' }).click();
  await field.fill('Add up the numbers 0 to 9 with Python, please.');
  await field.press('Enter');
  await list.getByRole('button', { name: /^Add up the numbers 0 to 9/ }).waitFor();
});

test('sessions: the new session is listed, survives a reload, and can be switched and deleted', async () => {
  const { page } = browser;
  const first = await currentSession(page);
  const list = page.getByRole('list', { name: 'Sessions' });
  await list.getByRole('button', { name: /^Add up the numbers 0 to 9/ }).waitFor();

  // Reload: the conversation comes back from the server's stored events, the same as it streamed.
  const cardBefore = await page.locator('.tool-card[data-call-id="call-exec-1"] .result').textContent();
  await page.reload();
  await finalAnswer(page, ANSWER).waitFor();
  assert.equal(await page.locator('.tool-card[data-call-id="call-exec-1"] .result').textContent(), cardBefore);
  assert.equal(await page.locator('.transcript .msg.user').filter({ hasText: 'Add up the numbers 0 to 9' }).count(), 1);
  assert.equal(await currentSession(page), first);

  // A new session.
  await page.getByRole('button', { name: '+ New session' }).click();
  await page.getByRole('heading', { name: 'New conversation' }).waitFor();
  assert.equal(await page.locator('.transcript > li').count(), 0, 'a new session starts empty');
  await sendMessage(page, 'Say something in the second session.');
  await finalAnswer(page, SECOND).waitFor();
  const second = await currentSession(page);
  assert.notEqual(second, first);
  await list.locator('li').nth(1).waitFor();
  assert.equal(await list.locator('li').count(), 2);

  // Switch back to the first.
  await list.getByRole('button', { name: /^Add up the numbers 0 to 9/ }).click();
  await finalAnswer(page, ANSWER).waitFor();
  assert.equal(await currentSession(page), first);
  assert.equal(await finalAnswer(page, SECOND).count(), 0, 'the other session\'s messages are not shown');

  // Delete the second one.
  page.once('dialog', (d) => d.accept());
  await list.getByRole('button', { name: /Delete Say something in the second session/ }).click();
  await page.getByText(/Deleted Say something in the second session/).waitFor();
  assert.equal(await list.locator('li').count(), 1);
  const gone = await browser.context.request.get(`${server.url}/apps/code_execution/users/tester/sessions/${second}`);
  assert.equal(gone.status(), 404, 'the deleted session is gone on the server');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
