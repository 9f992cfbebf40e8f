// The chat page: agent dropdown, the user's sessions of that agent (new, switch, delete), the
// transcript, and the composer that streams a run over POST /run_sse.

import { api, postSse, sessionsUrl, sessionUrl, approvalUrl, ApiError } from './api.js';
import { h, clear, icon, fmtTime, stickToBottom } from './dom.js';
import { Transcript } from './transcript.js';

const AGENT_KEY = 'vana.agent';
/** The session state key of a session's title (set by the server from the first message). */
const TITLE_KEY = 'vana:title';

/** A title made from a message, as the server makes it (whitespace collapsed, 80 characters). */
function titleFrom(text) {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length <= 80 ? t : `${t.slice(0, 79).trimEnd()}…`;
}

/** The session last shown for an agent in this tab (so Dashboard → Chat returns to it). */
function lastSession(agent) {
  return sessionStorage.getItem(`vana.lastSession.${agent}`) || null;
}

function rememberSession(agent, id) {
  const k = `vana.lastSession.${agent}`;
  if (id) sessionStorage.setItem(k, id);
  else sessionStorage.removeItem(k);
}

function shortId(id) {
  return String(id).slice(0, 8);
}

/** Mounts the chat page; returns its unmount function. */
export function mount(main, ctx, params) {
  const { me, agents } = ctx;
  const user = me.user;
  let agent = params.get('agent');
  if (!agents.some((a) => a.name === agent)) agent = localStorage.getItem(AGENT_KEY);
  if (!agents.some((a) => a.name === agent)) agent = (agents.find((a) => a.name === 'vana') || agents[0] || {}).name;
  let sessionId = params.get('session') || lastSession(agent);
  let busy = false;
  /** Session id → title, from the session listing (and a new session's first message). */
  const sessionTitles = new Map();
  let controller = null;
  let disposed = false;

  // ---- layout ----
  const agentSelect = h('select', { id: 'agent', name: 'agent', 'aria-describedby': 'agent-desc' },
    agents.map((a) => h('option', { value: a.name, title: a.description || '' }, optionLabel(a))));
  const agentDesc = h('p', { id: 'agent-desc', class: 'agent-desc muted' });
  const sessionList = h('ul', { class: 'sessions', 'aria-label': 'Sessions' });
  const sessionsStatus = h('p', { class: 'muted small', role: 'status' });
  const newBtn = h('button', { type: 'button', class: 'btn', onclick: () => newSession() }, '+ New session');

  const title = h('h1', { class: 'conv-title' });
  const renameBtn = h('button', {
    type: 'button', class: 'btn-icon rename', 'aria-label': 'Rename session', title: 'Rename session', hidden: true,
    onclick: () => startRename(),
  }, icon('pencil'));
  const renameInput = h('input', { type: 'text', class: 'rename-input', 'aria-label': 'Session title', maxlength: 200, hidden: true });
  const sessionLabel = h('span', { class: 'muted small session-label' });
  const list = h('ol', { class: 'transcript', 'aria-label': 'Messages', 'aria-live': 'polite', 'aria-relevant': 'additions text' });
  const empty = h('div', { class: 'empty' });
  const scroller = h('div', { class: 'scroller' }, empty, list);
  const pin = stickToBottom(scroller);
  const transcript = new Transcript(list, {
    onChange: () => {
      empty.hidden = list.childElementCount > 0;
      pin.update();
    },
    onDecision: (callId, approved, card) => decide(callId, approved, card),
  });

  const input = h('textarea', {
    id: 'message', name: 'message', rows: 2, required: true, autocomplete: 'off',
    placeholder: 'Message…', title: 'Enter sends; Shift+Enter starts a new line',
  });
  const sendBtn = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Send');
  const stopBtn = h('button', { type: 'button', class: 'btn', hidden: true, onclick: () => controller && controller.abort() }, 'Stop');
  const working = h('span', { class: 'working muted small', role: 'status' });
  const composer = h('form', { class: 'composer', 'aria-label': 'Send a message' },
    h('label', { for: 'message', class: 'sr-only' }, 'Message'), input,
    h('div', { class: 'composer-actions' }, working, stopBtn, sendBtn));

  const page = h('div', { class: 'chat-page' },
    h('aside', { class: 'sidebar', 'aria-label': 'Agent and sessions' },
      h('label', { for: 'agent', class: 'field-label' }, 'Agent'),
      agentSelect,
      agentDesc,
      h('div', { class: 'sessions-head' }, h('h2', {}, 'Sessions'), newBtn),
      sessionsStatus,
      sessionList),
    h('section', { class: 'conversation', 'aria-labelledby': 'conv-title' },
      h('div', { class: 'conv-head' }, title, renameInput, renameBtn, sessionLabel),
      scroller,
      composer));
  title.id = 'conv-title';
  clear(main).append(page);

  // ---- behaviour ----
  agentSelect.addEventListener('change', () => {
    abortRun();
    agent = agentSelect.value;
    localStorage.setItem(AGENT_KEY, agent);
    sessionId = lastSession(agent);
    showAgent();
    showSession();
    loadSessions();
    if (sessionId) openSession(sessionId);
    else {
      transcript.reset();
      empty.hidden = false;
    }
  });

  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });

  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text || busy) return;
    input.value = '';
    send(text);
  });

  function optionLabel(a) {
    const d = String(a.description || '').split(/(?<=[.!?])\s/)[0];
    const short = d.length > 70 ? `${d.slice(0, 67)}…` : d;
    const label = short ? `${a.name} — ${short}` : a.name;
    return a.available === false ? `${label} (tools not installed)` : label;
  }

  /** What the agent lacks, in words, or '' when it has its tools. */
  function lacks(a) {
    const missing = (a && a.missingTools) || [];
    if (!missing.length) return '';
    return a.available === false
      ? `None of its tools is installed here (${missing.join(', ')}): it can only say so.`
      : `Not installed here: ${missing.join(', ')}.`;
  }

  function showAgent() {
    agentSelect.value = agent || '';
    const a = agents.find((x) => x.name === agent);
    agentDesc.textContent = a ? [a.description || '', lacks(a)].filter(Boolean).join(' ') : 'No agents are configured.';
    input.placeholder = a ? `Message ${a.name}…` : 'No agent available';
    sendBtn.disabled = !a;
  }

  function updateHash() {
    const p = new URLSearchParams();
    if (agent) p.set('agent', agent);
    if (sessionId) p.set('session', sessionId);
    history.replaceState(null, '', `#/chat?${p}`);
  }

  function showSession() {
    updateHash();
    if (agent) rememberSession(agent, sessionId);
    title.textContent = sessionId ? sessionTitles.get(sessionId) || `Session ${shortId(sessionId)}` : 'New conversation';
    renameBtn.hidden = !sessionId;
    stopRename();
    sessionLabel.textContent = sessionId ? `${agent} · ${sessionId}` : agent || '';
    for (const li of sessionList.children) {
      const b = li.querySelector('.session-open');
      if (b) b.setAttribute('aria-current', li.dataset.id === sessionId ? 'true' : 'false');
    }
    const a = agents.find((x) => x.name === agent);
    clear(empty).append(
      h('p', {}, sessionId ? 'This session has no messages yet.' : `Start a conversation with ${agent || 'an agent'}.`),
      a && a.description ? h('p', { class: 'muted' }, a.description) : null);
  }

  async function loadSessions() {
    const forAgent = agent;
    if (!forAgent) return;
    sessionsStatus.textContent = 'Loading sessions…';
    try {
      const sessions = (await api('GET', sessionsUrl(forAgent, user))) || [];
      if (disposed || forAgent !== agent) return;
      sessions.sort((a, b) => (b.lastUpdateTime || 0) - (a.lastUpdateTime || 0));
      clear(sessionList);
      for (const s of sessions) {
        const named = s.state && typeof s.state[TITLE_KEY] === 'string' ? s.state[TITLE_KEY] : '';
        if (named) sessionTitles.set(s.id, named);
        const label = sessionTitles.get(s.id) || `Session ${shortId(s.id)}`;
        sessionList.append(
          h('li', { dataset: { id: s.id } },
            h('button', {
              type: 'button', class: 'session-open', 'aria-current': s.id === sessionId ? 'true' : 'false',
              onclick: () => openSession(s.id),
            }, h('span', { class: 'session-title' }, label), h('small', { class: 'muted' }, fmtTime(s.lastUpdateTime))),
            h('button', {
              type: 'button', class: 'session-delete btn-icon', 'aria-label': `Delete ${label}`, title: 'Delete session',
              onclick: () => deleteSession(s.id, label),
            }, icon('trash'))));
      }
      sessionsStatus.textContent = sessions.length ? '' : 'No sessions yet.';
      if (sessionId && renameInput.hidden && sessionTitles.has(sessionId)) title.textContent = sessionTitles.get(sessionId);
    } catch (e) {
      if (!disposed) sessionsStatus.textContent = `Could not load sessions: ${e.message}`;
    }
  }

  function abortRun() {
    if (controller) controller.abort();
  }

  function newSession() {
    abortRun();
    sessionId = null;
    transcript.reset();
    empty.hidden = false;
    showSession();
    input.focus();
  }

  async function openSession(id) {
    abortRun();
    sessionId = id;
    transcript.reset();
    showSession();
    empty.hidden = true;
    const loading = h('p', { class: 'muted', role: 'status' }, 'Loading session…');
    scroller.prepend(loading);
    try {
      const s = await api('GET', sessionUrl(agent, user, id));
      if (disposed || sessionId !== id) return;
      for (const ev of (s && s.events) || []) transcript.add(ev);
      transcript.closeAllStreams();
    } catch (e) {
      if (sessionId !== id) return;
      if (e instanceof ApiError && e.status === 404) {
        // Deleted elsewhere (or never ours): start a new conversation instead.
        sessionId = null;
        showSession();
        transcript.addNotice(`Session ${shortId(id)} no longer exists; a new conversation starts with your next message.`);
      } else {
        transcript.addError(e.message);
      }
    } finally {
      loading.remove();
      empty.hidden = list.childElementCount > 0;
      pin.force();
    }
  }

  function startRename() {
    if (!sessionId) return;
    renameInput.value = sessionTitles.get(sessionId) || '';
    title.hidden = true;
    renameBtn.hidden = true;
    renameInput.hidden = false;
    renameInput.focus();
    renameInput.select();
  }

  function stopRename() {
    renameInput.hidden = true;
    title.hidden = false;
    renameBtn.hidden = !sessionId;
  }

  /** Saves the edited title as the session's state (PATCH), then shows it everywhere. */
  async function saveRename() {
    const id = sessionId;
    const text = renameInput.value.replace(/\s+/g, ' ').trim();
    stopRename();
    if (!id || !text || text === sessionTitles.get(id)) return;
    try {
      await api('PATCH', sessionUrl(agent, user, id), { stateDelta: { [TITLE_KEY]: text } });
      sessionTitles.set(id, text);
      if (sessionId === id) title.textContent = text;
      await loadSessions();
      sessionsStatus.textContent = `Renamed to ${text}.`;
    } catch (e) {
      sessionsStatus.textContent = `Could not rename the session: ${e.message}`;
    }
  }

  renameInput.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') {
      e.preventDefault();
      saveRename();
    } else if (e.key === 'Escape') {
      e.preventDefault();
      stopRename();
    }
  });
  renameInput.addEventListener('blur', () => {
    if (!renameInput.hidden) saveRename();
  });

  async function deleteSession(id, label) {
    if (!window.confirm(`Delete "${label}" and all its messages? This cannot be undone.`)) return;
    try {
      await api('DELETE', sessionUrl(agent, user, id));
      if (sessionId === id) newSession();
      await loadSessions();
      sessionsStatus.textContent = `Deleted ${label}.`;
    } catch (e) {
      sessionsStatus.textContent = `Could not delete the session: ${e.message}`;
    }
  }

  function setBusy(on) {
    busy = on;
    working.textContent = on ? `${agent} is working…` : '';
    sendBtn.disabled = on || !agent;
    stopBtn.hidden = !on;
    list.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  async function stream(iterable) {
    for await (const ev of iterable) {
      if (disposed) return;
      transcript.add(ev);
    }
  }

  let current = null;
  function runGuarded(fn) {
    current = guarded(fn).finally(() => {
      current = null;
    });
    return current;
  }

  async function guarded(fn) {
    setBusy(true);
    controller = new AbortController();
    const mine = controller;
    try {
      await fn(mine.signal);
    } catch (e) {
      if (e.name === 'AbortError') {
        if (!disposed) transcript.addNotice('Stopped watching this run. The agent may still finish it on the server; reopen the session to see the result.');
      } else {
        transcript.addError(e.message);
      }
    } finally {
      transcript.closeAllStreams();
      if (controller === mine) controller = null;
      setBusy(false);
    }
  }

  async function send(text) {
    transcript.addLocalUser(text);
    empty.hidden = true;
    pin.force();
    const runAgent = agent;
    await runGuarded(async (signal) => {
      if (!sessionId) {
        const s = await api('POST', sessionsUrl(runAgent, user), {}, { signal });
        sessionId = s.id;
        // The server titles the session from this message; show it at once.
        sessionTitles.set(s.id, titleFrom(text));
        showSession();
        loadSessions();
      }
      await stream(postSse('/run_sse', {
        appName: runAgent,
        userId: user,
        sessionId,
        newMessage: { role: 'user', parts: [{ text }] },
        streaming: true,
      }, { signal }));
    });
    if (!disposed) loadSessions();
  }

  async function decide(callId, approved, card) {
    card.busy(true);
    // The stream that brought the request may still be closing: wait for it.
    while (current) await current;
    if (!sessionId || disposed) return;
    await runGuarded(async (signal) => {
      const it = postSse(approvalUrl(agent, user, sessionId, callId), { approved }, { signal })[Symbol.asyncIterator]();
      let first;
      try {
        first = await it.next();
      } catch (e) {
        card.fail(`Could not send the decision: ${e.message}`);
        throw e;
      }
      transcript.markDecision(callId, approved);
      if (!first.done) transcript.add(first.value);
      await stream({ [Symbol.asyncIterator]: () => it });
    });
  }

  showAgent();
  showSession();
  loadSessions();
  if (sessionId) openSession(sessionId);
  else input.focus();

  return () => {
    disposed = true;
    abortRun();
  };
}
