// The creative_design agent end to end: the real `vana serve` turns a page spec (from the
// scripted model) into a mockup rendered by its own headless Chromium at mobile, tablet and
// desktop widths, and the three PNGs are shown inline in the web UI's transcript, as images the
// user sees, each decoded at its width.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from '../lib/server.mjs';
import { launch, login, screenshot, pickAgent, sendMessage, finalAnswer } from '../lib/browser.mjs';

const ANSWER = 'Here is the landing page at three widths; axe-core found no violations.';
const SPEC = {
  title: 'Bean There Coffee',
  theme: 'ocean',
  sections: [
    { kind: 'header', brand: 'Bean There', links: [{ label: 'Menu', href: '#menu' }, { label: 'Visit', href: '/visit' }] },
    { kind: 'hero', heading: 'Coffee roasted this morning', text: 'Single-origin beans in small batches.', cta: { label: 'Order now', href: '#order' } },
    { kind: 'cards', heading: 'Our menu', items: [{ title: 'Espresso', text: 'Rich and short.' }, { title: 'Flat white', text: 'Velvety.' }, { title: 'Cold brew', text: 'Steeped 18 hours.' }] },
    { kind: 'footer', text: '© Bean There Coffee' },
  ],
};

let server;
let browser;

before(async () => {
  server = await startServer({
    turns: [
      { function_calls: [{ name: 'generate_ui_mockup', args: SPEC, id: 'mock-1' }] },
      { text: ANSWER },
    ],
  });
  browser = await launch();
  await login(browser.page, server);
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test('creative_design renders a mockup and its three PNGs are shown inline', async () => {
  const { page } = browser;
  await pickAgent(page, 'creative_design');
  await sendMessage(page, 'Design a landing page for my coffee shop.');
  await finalAnswer(page, ANSWER).waitFor({ timeout: 120_000 });

  // The tool really rendered and checked the page.
  const card = page.locator('.tool-card[data-call-id="mock-1"] .result');
  await card.filter({ hasText: 'mockups/bean-there-coffee.html' }).waitFor();
  await card.filter({ hasText: 'axe-core 4.11.0' }).waitFor();

  // Three images the user sees: decoded PNGs exactly 375, 768 and 1280 pixels wide.
  const imgs = page.locator('.transcript .item.media figure img');
  await imgs.nth(2).waitFor();
  assert.equal(await imgs.count(), 3);
  const sizes = [];
  for (let i = 0; i < 3; i++) {
    const img = imgs.nth(i);
    assert.match(await img.getAttribute('src'), /^data:image\/png;base64,iVBORw0KGgo/);
    sizes.push(
      await img.evaluate((el) =>
        (el.decode ? el.decode() : Promise.resolve()).then(() => [el.naturalWidth, el.naturalHeight]),
      ),
    );
    await img.scrollIntoViewIfNeeded();
    assert.ok(await img.isVisible(), `mockup image ${i} is visible in the transcript`);
  }
  assert.deepEqual(sizes.map((s) => s[0]), [375, 768, 1280]);
  assert.ok(sizes.every((s) => s[1] > 300), `each is the whole page: ${JSON.stringify(sizes)}`);
  assert.ok(sizes[0][1] > sizes[2][1], 'the mobile render is the tallest');
  await screenshot(page, 'design-mockup');
  assert.deepEqual(browser.errors.map(String), [], 'no uncaught errors in the page');
});
