// The browser_automation agent end to end: the real `vana serve` drives its own headless
// Chromium (the browser tools) to fill and submit a form served on loopback, and the screenshot
// it takes is shown inline in the web UI, as an image the user sees.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { startServer } from '../lib/server.mjs';
import { launch, login, screenshot, pickAgent, sendMessage, finalAnswer } from '../lib/browser.mjs';

const FORM = `<!doctype html><title>Signup</title><main><h1>Join the beta</h1>
<form method="post" action="/submit"><label for="who">Name</label><input id="who" name="who" required>
<label for="plan">Plan</label><select id="plan" name="plan"><option value="free">Free</option><option value="team">Team</option></select>
<button>Join</button></form></main>`;
const ANSWER = 'Signed up: the confirmation page is in the screenshot.';

let site;
let siteUrl;
const posts = [];
let server;
let browser;

before(async () => {
  site = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/submit') {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        posts.push(body);
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end(`<!doctype html><title>Welcome</title><h1 style="font-size:64px">Welcome aboard</h1><p>${body.replace(/</g, '&lt;')}</p>`);
      });
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(FORM);
  });
  await new Promise((r) => site.listen(0, '127.0.0.1', r));
  siteUrl = `http://127.0.0.1:${site.address().port}`;
  server = await startServer({
    turns: [
      { function_calls: [{ name: 'navigate_to_url', args: { url: `${siteUrl}/signup` }, id: 'nav-1' }] },
      {
        function_calls: [
          {
            name: 'fill_form',
            args: { fields: [{ label: 'Name', value: 'Ada' }, { label: 'Plan', value: 'Team' }], submit: true },
            id: 'fill-1',
          },
        ],
      },
      { function_calls: [{ name: 'take_screenshot', args: {}, id: 'shot-1' }] },
      { text: ANSWER },
    ],
    // The form is on loopback, which the outbound policy refuses unless the operator allows it.
    env: { VANA_WEB_ALLOW_PRIVATE_NETWORKS: 'true' },
  });
  browser = await launch();
  await login(browser.page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
  if (site) site.close();
});

test('browser_automation submits a form and its screenshot is shown inline', async () => {
  const { page } = browser;
  await pickAgent(page, 'browser_automation');
  await sendMessage(page, 'Sign Ada up for the Team plan and show me the result.');
  await finalAnswer(page, ANSWER).waitFor({ timeout: 60_000 });

  // The form really was submitted by VANA's Chromium.
  assert.deepEqual(posts, ['who=Ada&plan=team']);
  await page.locator('.tool-card[data-call-id="fill-1"] .result').filter({ hasText: '"submitted": true' }).waitFor();

  // The screenshot is an image the user sees: a decoded PNG of the page's size.
  const img = page.locator('.transcript .item.media figure img').first();
  await img.waitFor();
  assert.match(await img.getAttribute('src'), /^data:image\/png;base64,iVBORw0KGgo/);
  const size = await img.evaluate((el) => (el.decode ? el.decode().then(() => [el.naturalWidth, el.naturalHeight]) : [el.naturalWidth, el.naturalHeight]));
  assert.deepEqual(size, [1280, 800]);
  assert.ok(await img.isVisible(), 'the screenshot is visible in the transcript');
  await img.scrollIntoViewIfNeeded();
  await screenshot(page, 'browser-tools');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
