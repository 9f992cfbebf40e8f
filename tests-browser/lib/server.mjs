// Starts the real `vana serve` binary for one test file: a fresh VANA_HOME, an API key made
// with `vana keys create`, and the scripted model (the only stand-in) playing `turns`.

import { spawn, execFile } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile, readdir, readFile, chmod } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The vana binary: $VANA_BIN, else target/debug/vana (built by `cargo build -p vana`). */
export function vanaBin() {
  const bin = process.env.VANA_BIN || join(ROOT, 'target', 'debug', 'vana');
  if (!existsSync(bin)) {
    throw new Error(`vana binary not found at ${bin}: build it with \`cargo build -p vana\` or set VANA_BIN`);
  }
  return bin;
}

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** The built-in agent catalog (agents/*.yaml): [{name, description}]. */
export async function catalog() {
  const dir = join(ROOT, 'agents');
  const out = [];
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    const text = await readFile(join(dir, f), 'utf8');
    const name = /^name:\s*(.+)$/m.exec(text)?.[1].trim();
    const description = /^description:\s*(.+)$/m.exec(text)?.[1].trim();
    out.push({ name, description });
  }
  return out;
}

/**
 * Starts a server.
 * @param {object} opts
 * @param {Array<object>} opts.turns the scripted model's turns (crates/vana-models/README.md)
 * @param {boolean} [opts.noAuth] start with --no-auth (no key is created)
 * @param {object} [opts.env] extra environment variables (e.g. VANA_* config overrides)
 * @param {object} [opts.agents] the user's own agent files: {name: YAML text}, written to $VANA_HOME/agents
 * @returns {Promise<{url: string, key: string|null, user: string, home: string, bin: string, env: object, logs: () => string, stop: () => Promise<void>}>}
 */
export async function startServer(opts) {
  const bin = vanaBin();
  const home = await mkdtemp(join(tmpdir(), 'vana-web-test-'));
  try {
    return await start(bin, home, opts);
  } catch (e) {
    await rm(home, { recursive: true, force: true });
    throw e;
  }
}

async function start(bin, home, { turns, noAuth = false, env: extraEnv = {}, agents = {} }) {
  // mkdtemp makes the folder 0700; the sandbox's user namespace (an unprivileged host uid)
  // must be able to reach the session workspaces under VANA_HOME, as under a normal data dir.
  await chmod(home, 0o755);
  if (Object.keys(agents).length) await mkdir(join(home, 'agents'));
  for (const [name, yaml] of Object.entries(agents)) await writeFile(join(home, 'agents', `${name}.yaml`), yaml);
  const script = join(home, 'script.json');
  await writeFile(script, JSON.stringify(turns, null, 2));
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VANA_') || k === 'VANA_BIN')),
    VANA_HOME: home,
    VANA_MODELS_DEFAULT_MODEL: `scripted:${script}`,
    RUST_LOG: process.env.RUST_LOG || 'warn',
    // A chat must not install the catalog's MCP servers from the registries (first use would);
    // mcp-states.test.mjs turns it back on.
    VANA_MCP_AUTO_INSTALL: '0',
    ...extraEnv,
  };
  delete env.VANA_BIN;

  let key = null;
  const user = noAuth ? null : 'tester';
  if (!noAuth) {
    const { stdout, stderr } = await run(bin, ['keys', 'create', 'tester'], { env, cwd: home, timeout: 60_000 });
    key = /vana_[0-9a-f]+_[0-9a-f]{16,}/.exec(`${stdout}\n${stderr}`)?.[0] ?? null;
    if (!key) throw new Error(`\`vana keys create tester\` printed no key:\n${stdout}\n${stderr}`);
  }

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = ['serve', '--bind', `127.0.0.1:${port}`];
  if (noAuth) args.push('--no-auth');
  const child = spawn(bin, args, { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));

  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new Error(`vana serve exited early (${JSON.stringify(exited)}):\n${out}`);
    try {
      const r = await fetch(`${url}/healthz`);
      if (r.ok) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`vana serve did not answer /healthz within 60 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }

  return {
    url,
    key,
    user,
    home,
    bin,
    env,
    logs: () => out,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        await Promise.race([
          new Promise((r) => child.once('exit', r)),
          new Promise((r) => setTimeout(r, 5000)),
        ]);
        if (!exited) child.kill('SIGKILL');
      }
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** Runs the vana CLI against a started server's home (same env). */
export async function vana(server, args) {
  return run(server.bin, args, { env: server.env, cwd: server.home, timeout: 60_000 });
}
