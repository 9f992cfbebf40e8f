// Entry point: signs in (or skips it when the server runs with --no-auth), loads the agent
// catalog, and routes between the pages by the URL hash (#/chat, #/dashboard, #/audit).

import { api, ApiError, UNAUTHORIZED } from './api.js';
import { h, clear } from './dom.js';
import * as chat from './chat.js';
import * as dashboard from './dashboard.js';
import * as audit from './audit.js';

const pages = {
  chat: { mod: chat, title: 'Chat' },
  dashboard: { mod: dashboard, title: 'Dashboard' },
  audit: { mod: audit, title: 'Audit log' },
};

const main = document.getElementById('main');
const dialog = document.getElementById('login');
const form = document.getElementById('login-form');
const keyInput = document.getElementById('login-key');
const loginError = document.getElementById('login-error');
const loginSubmit = document.getElementById('login-submit');
const whoami = document.getElementById('whoami');
const logoutBtn = document.getElementById('logout');

const ctx = { me: null, agents: [] };
let unmount = null;
let booted = false;

function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const [name, query] = raw.split('?');
  return { name: pages[name] ? name : 'chat', params: new URLSearchParams(query || '') };
}

function route() {
  if (!ctx.me) return;
  const { name, params } = parseHash();
  if (unmount) unmount();
  unmount = null;
  for (const a of document.querySelectorAll('.mainnav a')) {
    if (a.dataset.route === name) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  document.title = `${pages[name].title} · VANA`;
  unmount = pages[name].mod.mount(main, ctx, params) || null;
}

function showFatal(message) {
  clear(main).append(h('div', { class: 'fatal', role: 'alert' }, h('h1', {}, 'VANA is not available'), h('p', {}, message),
    h('button', { type: 'button', class: 'btn', onclick: () => boot() }, 'Try again')));
}

function showLogin(message) {
  ctx.me = null;
  if (unmount) unmount();
  unmount = null;
  clear(main);
  whoami.textContent = '';
  logoutBtn.hidden = true;
  loginError.hidden = !message;
  loginError.textContent = message || '';
  if (!dialog.open) dialog.showModal();
  keyInput.focus();
}

async function boot() {
  let me;
  try {
    me = await api('GET', '/api/me');
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) {
      showLogin();
      return;
    }
    showFatal(e.message);
    return;
  }
  // Without authentication the server names no user: sessions then belong to "local".
  const auth = me.auth !== false && me.user != null;
  ctx.me = { user: me.user || 'local', auth };
  whoami.textContent = ctx.me.auth ? `Signed in as ${ctx.me.user}` : `${ctx.me.user} (no authentication)`;
  logoutBtn.hidden = !ctx.me.auth;
  try {
    ctx.agents = ((await api('GET', '/api/agents')) || []).filter((a) => a && a.name);
  } catch (e) {
    if (e.status === 401) {
      showLogin();
      return;
    }
    showFatal(`Could not load the agent catalog: ${e.message}`);
    return;
  }
  if (!booted) {
    booted = true;
    window.addEventListener('hashchange', route);
  }
  route();
}

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  const key = keyInput.value.trim();
  if (!key) {
    loginError.textContent = 'Enter your API key.';
    loginError.hidden = false;
    return;
  }
  loginSubmit.disabled = true;
  loginError.hidden = true;
  try {
    await api('POST', '/api/login', { key });
    keyInput.value = '';
    dialog.close();
    await boot();
  } catch (err) {
    loginError.textContent = err.status === 401 ? 'That API key is not valid.' : `Sign-in failed: ${err.message}`;
    loginError.hidden = false;
    keyInput.select();
  } finally {
    loginSubmit.disabled = false;
  }
});

// The app is unusable without signing in: Escape does not dismiss the dialog.
dialog.addEventListener('cancel', (e) => e.preventDefault());

logoutBtn.addEventListener('click', async () => {
  try {
    await api('POST', '/api/logout');
  } catch {
    /* signed out locally either way */
  }
  showLogin('You are signed out.');
});

window.addEventListener(UNAUTHORIZED, () => {
  if (ctx.me && ctx.me.auth) showLogin('Your session has ended. Sign in again.');
});

boot();
