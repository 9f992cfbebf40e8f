// Google ADK's own web UI (the static files of the pinned google-adk wheel, installed by
// scripts/setup-adk.sh; ADK's Python is not run) served on its own origin with
// assets/config/runtime-config.json pointing its backendUrl at a real `vana serve`
// (--no-auth on loopback, as `adk web`; the UI's origin in server.allowed_origins, so CORS
// lets it read the answers). The test picks an agent, sends a message and sees the reply
// once, opens Traces (a model-call span and a tool-call span with durations), opens the
// agent graph image, adds the session to a new eval set, runs it and sees the scores. Any
// 404 or 5xx answered to the UI's requests, and any uncaught page error, fails it. Without
// the wheel's files it fails (CI installs them), it does not skip.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join, extname, normalize, sep } from 'node:path';
import { startServer, ROOT } from '../lib/server.mjs';
import { launch, screenshot } from '../lib/browser.mjs';

const CODE = 'print(6 * 7)';
const QUESTION = 'What is six times seven? Compute it.';
const ANSWER = 'Six times seven is 42, computed in the sandbox.';
const CASE = 'six_times_seven';
// The conversation, then the same again for the eval run (a faithful agent: both scores 1).
const TURNS = [
  { function_calls: [{ name: 'execute_code', args: { language: 'python', code: CODE }, id: 'call-adk-1' }], usage: { prompt_tokens: 31, completion_tokens: 9 } },
  { text: ANSWER, usage: { prompt_tokens: 48, completion_tokens: 12 } },
  { function_calls: [{ name: 'execute_code', args: { language: 'python', code: CODE }, id: 'call-adk-2' }] },
  { text: ANSWER },
];
// Generous: CI machines are slow, and every wait is on a condition, never a fixed time.
const LONG = 90_000;

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml',
  '.json': 'application/json', '.png': 'image/png', '.ico': 'image/x-icon', '.woff2': 'font/woff2',
};

/** google/adk/cli/browser inside the venv of scripts/setup-adk.sh. */
async function adkBrowserDir() {
  const lib = join(ROOT, '.cache', 'adk-venv', 'lib');
  if (!existsSync(lib)) throw new Error(`${lib} missing: run scripts/setup-adk.sh (installs the pinned google-adk wheel)`);
  for (const py of await readdir(lib)) {
    const dir = join(lib, py, 'site-packages', 'google', 'adk', 'cli', 'browser');
    if (existsSync(join(dir, 'index.html'))) return dir;
  }
  throw new Error(`google-adk's web UI not found under ${lib}: run scripts/setup-adk.sh`);
}

/** Serves ADK's web UI under /dev-ui/ (as `adk web`) with runtime-config.json naming `backendUrl`. */
async function serveUi(dir, getBackend) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url, 'http://x');
    let path = decodeURIComponent(url.pathname);
    if (path === '/' || path === '/dev-ui') {
      res.writeHead(302, { location: '/dev-ui/' });
      return res.end();
    }
    if (!path.startsWith('/dev-ui/')) {
      res.writeHead(404);
      return res.end();
    }
    path = path.slice('/dev-ui/'.length);
    if (path === 'assets/config/runtime-config.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ backendUrl: getBackend() }));
    }
    let file = normalize(join(dir, path));
    if (file !== dir && !file.startsWith(dir + sep)) {
      res.writeHead(403);
      return res.end();
    }
    try {
      if (!path || (await stat(file)).isDirectory()) file = join(dir, 'index.html');
    } catch {
      // The app's own routes (no file extension) get the app; a missing asset is a 404.
      if (extname(path)) {
        res.writeHead(404);
        return res.end();
      }
      file = join(dir, 'index.html');
    }
    const body = await readFile(file);
    res.writeHead(200, { 'content-type': TYPES[extname(file)] || 'application/octet-stream' });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

let ui;
let vana;
let browser;
const bad = []; // 404/5xx answers of VANA to the UI's requests
const calls = []; // every request of the UI to VANA, for the failure message

before(async () => {
  const dir = await adkBrowserDir();
  let backend = '';
  ui = await serveUi(dir, () => backend);
  vana = await startServer({ turns: TURNS, noAuth: true, env: { VANA_SERVER_ALLOWED_ORIGINS: ui.url } });
  backend = vana.url;
  browser = await launch({ viewport: { width: 1500, height: 950 } });
  // Nothing leaves the machine: ADK's UI links Google's web fonts; those requests are refused.
  await browser.context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => route.abort());
  // VANA's answers are what is checked. (The static files are the wheel's as shipped: its UI
  // asks for a prism-dark.css that google-adk 2.13 does not include, a 404 under `adk web` too.)
  browser.context.on('response', (r) => {
    if (!r.url().startsWith(vana.url)) return;
    const line = `${r.request().method()} ${r.url().slice(vana.url.length)} -> ${r.status()}`;
    calls.push(line);
    if (r.status() === 404 || r.status() >= 500) bad.push(line);
  });
});

after(async () => {
  if (browser) await browser.close();
  if (vana) await vana.stop();
  if (ui) ui.server.close();
});

function assertClean(step) {
  assert.deepEqual(bad, [], `${step}: VANA answered 404/5xx to the UI:\n${bad.join('\n')}\nall calls to VANA:\n${calls.join('\n')}`);
  assert.deepEqual(browser.errors.map(String), [], `${step}: uncaught page errors`);
}

/** Waits until the page's visible text matches `re`. */
async function textMatches(page, re, what) {
  try {
    await page.waitForFunction(([src, flags]) => new RegExp(src, flags).test(document.body.innerText), [re.source, re.flags], { timeout: LONG });
  } catch (e) {
    throw new Error(`${what}: the page never showed ${re}\n${await page.locator('body').innerText()}\n${e.message}`);
  }
}

test('ADK web UI: pick an agent, chat (reply once), traces, graph, eval set with scores', { timeout: 600_000 }, async () => {
  const { page } = browser;
  await page.goto(`${ui.url}/dev-ui/`);

  // Pick code_execution in ADK's app selector (a drawer listing /list-apps).
  await page.getByRole('button', { name: 'Select an app' }).click();
  await page.getByRole('button', { name: 'code_execution', exact: true }).click();
  await page.waitForURL(/[?&]app=code_execution\b/);

  // Send a message; the reply appears once, and so does the question (no echo of the user's event).
  const box = page.getByRole('textbox', { name: 'Type a message...' });
  const streamed = page.waitForEvent('requestfinished', { predicate: (r) => r.url() === `${vana.url}/run_sse`, timeout: LONG });
  const traced = page.waitForResponse((r) => r.url().includes('/debug/trace/session/'), { timeout: LONG });
  await box.fill(QUESTION);
  await box.press('Enter');
  await streamed;
  await traced;
  const answers = page.getByRole('paragraph').filter({ hasText: ANSWER });
  await answers.first().waitFor({ timeout: LONG });
  assert.equal(await answers.count(), 1, 'the reply is shown once');
  assert.equal(await page.getByRole('paragraph').filter({ hasText: QUESTION }).count(), 1, 'the question is shown once');
  // The tool call and its response are shown as ADK shows them.
  assert.equal(await page.getByRole('button', { name: 'execute_code', exact: true }).count(), 2, 'function call and response');
  await screenshot(page, 'adk-ui-chat');
  assertClean('chat');

  // Traces: the invocation with a model-call span and a tool-call span, each with its duration.
  await page.getByRole('radio', { name: 'Traces' }).click();
  await textMatches(page, /Invocation ID:/i, 'traces');
  const duration = String.raw`\s+\d+(\.\d+)?\s*(ns|us|µs|ms|s)\b`;
  await textMatches(page, new RegExp(`call_llm${duration}`), 'a model-call span with its duration');
  await textMatches(page, new RegExp(`execute_code${duration}`), 'a tool-call span with its duration');
  await textMatches(page, new RegExp(`code_execution${duration}`), 'the agent span with its duration');
  await screenshot(page, 'adk-ui-traces');
  assertClean('traces');
  await page.getByRole('radio', { name: 'Events' }).click();

  // The agent graph image (DOT from build_graph_image, drawn by the UI), opened full size.
  const graphs = () =>
    page.evaluate(() => [...document.querySelectorAll('svg')].filter((s) => s.textContent.includes('get_supported_languages')).length);
  await page.waitForFunction(() => [...document.querySelectorAll('svg')].some((s) => s.textContent.includes('get_supported_languages')), null, { timeout: LONG });
  const shown = await graphs();
  await page.locator('button', { has: page.locator('mat-icon', { hasText: /^fullscreen$/ }) }).first().click();
  await page.getByText('Agent Structure:').waitFor({ timeout: LONG });
  await page.waitForFunction(
    (n) => [...document.querySelectorAll('svg')].filter((s) => s.textContent.includes('get_supported_languages')).length > n,
    shown,
    { timeout: LONG },
  );
  assert.equal(await page.getByText('Graph is not available for this agent.').count(), 0);
  await screenshot(page, 'adk-ui-graph');
  assertClean('graph');
  await page.getByRole('button', { name: 'Close', exact: true }).click();
  await page.getByText('Agent Structure:').waitFor({ state: 'hidden', timeout: LONG });

  // Evals: a new eval set, the current session added as a case, run, the scores shown.
  await page.getByRole('tab', { name: 'Evals' }).click();
  const evals = page.getByRole('tabpanel', { name: 'Evals' });
  await evals.getByRole('button', { name: 'New', exact: true }).click();
  const create = page.getByRole('dialog', { name: 'Create New Eval Set' });
  await create.getByRole('textbox', { name: 'Eval Set Name' }).fill('adk_ui_set');
  await create.getByRole('button', { name: 'Create', exact: true }).click();
  await create.waitFor({ state: 'hidden', timeout: LONG });
  await evals.getByText('adk_ui_set', { exact: true }).click();
  await evals.getByRole('button', { name: 'From Current Session' }).click();
  const add = page.getByRole('dialog', { name: 'Add Current Session To Eval Set' });
  await add.getByRole('textbox').fill(CASE);
  await add.getByRole('button', { name: 'Create', exact: true }).click();
  await add.waitFor({ state: 'hidden', timeout: LONG });
  await evals.getByText(CASE, { exact: true }).waitFor({ timeout: LONG });
  await evals.getByRole('button', { name: 'Run All' }).click();
  const run = page.getByRole('dialog', { name: 'Run evaluation' });
  // VANA's two metrics, as /metrics-info describes them, both checked.
  await run.getByRole('checkbox', { name: /^Tool Trajectory/ }).waitFor({ timeout: LONG });
  await run.getByRole('checkbox', { name: /^Response Match/ }).waitFor();
  const ran = page.waitForResponse((r) => r.url().endsWith('/eval-sets/adk_ui_set/run'), { timeout: LONG });
  await run.getByRole('button', { name: 'Run', exact: true }).click();
  assert.equal((await ran).status(), 200);
  // The run's summary (1 case passed), then the case's scores against their thresholds.
  await textMatches(page, /1\s*PASS/, 'the eval run passed');
  await evals.getByText(CASE, { exact: true }).click();
  await textMatches(page, /Tool Trajectory\s*1\.00\s*\/\s*1\.00/, 'the tool trajectory score');
  await textMatches(page, /Response Match\s*1\.00\s*\/\s*0\.70/, 'the response match score');
  // The eval run's own session opens with its traces (the UI names it by session id only).
  await page.getByRole('radio', { name: 'Traces' }).click();
  await textMatches(page, new RegExp(`call_llm${duration}[\\s\\S]*execute_code${duration}`), "the eval session's spans");
  await screenshot(page, 'adk-ui-eval');
  assertClean('evals');
});
