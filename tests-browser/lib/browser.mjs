// Headless Debian Chromium (never a downloaded browser) driven by playwright-core, with a
// fresh profile per launch, and the UI steps the tests share.

import { chromium } from 'playwright-core';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server.mjs';

/** Where screenshots go (gitignored). */
export const SCREENSHOTS = join(ROOT, 'tests-browser', 'screenshots');

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * Launches Chromium with a fresh --user-data-dir. `errors` collects uncaught page errors
 * (a JavaScript exception in the UI is a bug the tests report).
 */
export async function launch({ viewport = { width: 1280, height: 900 } } = {}) {
  const profile = await mkdtemp(join(tmpdir(), 'vana-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport,
    timeout: 60_000,
  });
  context.setDefaultTimeout(20_000);
  const errors = [];
  const watch = (p) => p.on('pageerror', (e) => errors.push(e));
  context.pages().forEach(watch);
  context.on('page', watch);
  const page = context.pages()[0] || (await context.newPage());
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** Saves a screenshot of the page to tests-browser/screenshots/NAME.png. */
export async function screenshot(page, name) {
  await mkdir(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: false });
  return path;
}

/** Opens the UI and signs in with `key` through the login dialog. */
export async function login(page, server) {
  await page.goto(`${server.url}/`);
  const dialog = page.getByRole('dialog', { name: 'Sign in to VANA' });
  await dialog.waitFor();
  await dialog.getByLabel('API key').fill(server.key);
  await dialog.getByRole('button', { name: 'Sign in' }).click();
  await page.getByText(`Signed in as ${server.user}`).waitFor();
  await dialog.waitFor({ state: 'hidden' });
}

/** Picks an agent in the chat page's dropdown. */
export async function pickAgent(page, name) {
  await page.getByLabel('Agent', { exact: true }).selectOption(name);
}

/** Types a message in the composer and sends it with Enter. */
export async function sendMessage(page, text) {
  const box = page.getByRole('textbox', { name: 'Message', exact: true });
  await box.fill(text);
  await box.press('Enter');
}

/** The session id shown in the URL (#/chat?agent=..&session=..), once there is one. */
export async function currentSession(page) {
  await page.waitForFunction(() => new URLSearchParams(location.hash.split('?')[1] || '').get('session'));
  return page.evaluate(() => new URLSearchParams(location.hash.split('?')[1] || '').get('session'));
}

/** The agent message bubble whose final (non-streaming) text is `text`. */
export function finalAnswer(page, text) {
  return page.locator('.transcript .msg.agent:not(.streaming)').filter({ hasText: text });
}

/**
 * Starts recording what the user sees in streaming message bubbles: every text a bubble
 * showed while it was still marked as streaming. Returns a function that reads the record.
 */
export async function recordStreaming(page) {
  await page.evaluate(() => {
    window.__streamed = [];
    const list = document.querySelector('.transcript');
    const obs = new MutationObserver(() => {
      for (const b of list.querySelectorAll('.msg.agent.streaming .body')) {
        const t = b.textContent;
        if (window.__streamed[window.__streamed.length - 1] !== t) window.__streamed.push(t);
      }
    });
    obs.observe(list, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  return () => page.evaluate(() => window.__streamed.slice());
}
