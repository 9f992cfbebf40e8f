// The monitoring dashboard: renders the server's snapshot (GET /api/dashboard) and keeps it
// live from GET /api/dashboard/stream (server-sent events, one snapshot a second). Only fields
// present in the snapshot are shown; nothing is made up.

import { api, UNAUTHORIZED } from './api.js';
import { h, clear, fmtNum, fmtMs, fmtBytes, fmtDuration, fmtTime, fmtClock } from './dom.js';

const NO_DATA = 'no data yet';

const pct = (v) => (typeof v === 'number' && Number.isFinite(v) ? `${fmtNum(v)} %` : '—');
const usd = (v) => (typeof v === 'number' && Number.isFinite(v) ? `$${v.toFixed(4)}` : '—');
const text = (v) => (v == null || v === '' ? '—' : String(v));

const count = (v) => (Array.isArray(v) ? fmtNum(v.length) : fmtNum(v));
const up = (v) => (v === true ? '● connected' : v === false ? '○ down' : '—');

/**
 * Column/field definitions: [keys, heading, formatter]. The first key present in a row is
 * used (the server's field names, with their aliases); a column appears only when some row
 * has one of its keys.
 */
const AGENT_COLS = [
  [['name', 'agent'], 'Agent', text],
  [['requests'], 'Requests', fmtNum],
  [['errors'], 'Errors', fmtNum],
  [['errorRate'], 'Error rate', pct],
  [['latencyP50Ms'], 'p50 latency', fmtMs],
  [['latencyP95Ms'], 'p95 latency', fmtMs],
  [['tokensIn'], 'Tokens in', fmtNum],
  [['tokensOut'], 'Tokens out', fmtNum],
  [['costUsd'], 'Cost', usd],
  [['modelMs'], 'Model time', fmtMs],
  [['toolMs'], 'Tool time', fmtMs],
];
const TOOL_COLS = [
  [['name', 'tool'], 'Tool', text],
  [['calls'], 'Calls', fmtNum],
  [['errors'], 'Errors', fmtNum],
  [['errorRate'], 'Error rate', pct],
  [['p50Ms'], 'p50', fmtMs],
  [['p95Ms'], 'p95', fmtMs],
];
/**
 * MCP server states. Only `down` (a started server that failed) is an alarm; a server that
 * needs a key, is not installed yet or is disabled was never started and says how to enable it.
 */
const MCP_STATES = {
  connected: '● connected',
  ready: '○ ready (starts on first use)',
  down: '✕ down',
  needs_key: 'needs a key',
  not_installed: 'not installed',
  disabled: 'disabled',
  untrusted: 'untrusted project file',
};
const NEUTRAL_MCP = new Set(['needs_key', 'not_installed', 'disabled', 'untrusted']);
const mcpState = (v) => MCP_STATES[v] || text(v);
/** `down` for a failed server, `idle` for one that waits for a step, else nothing. */
const mcpRowClass = (row) => {
  if (row.state !== undefined) return row.state === 'down' ? 'down' : NEUTRAL_MCP.has(row.state) ? 'idle' : '';
  return row.connected === false || row.up === false ? 'down' : '';
};
/** A server waiting for a step shows that step, not an error; `up` is implied by `state`. */
function mcpRow(row) {
  if (!row || typeof row !== 'object' || row.state === undefined) return row;
  const { up: _up, toolPrefix: _prefix, ...out } = row;
  if (NEUTRAL_MCP.has(row.state)) {
    out.step = row.lastError ?? row.reason;
    delete out.lastError;
    delete out.reason;
  }
  if (row.state !== 'down') delete out.downSecs;
  return out;
}

const MCP_COLS = [
  [['name', 'server'], 'Server', text],
  [['state'], 'Status', mcpState],
  [['connected', 'up'], 'Status', up],
  [['downSecs'], 'Down for', fmtDuration],
  [['tools'], 'Tools', count],
  [['calls'], 'Calls', fmtNum],
  [['errors'], 'Errors', fmtNum],
  [['step'], 'To enable', text],
  [['lastError'], 'Last error', text],
];
const SANDBOX_FIELDS = [
  [['executions'], 'Executions', fmtNum],
  [['p50Ms'], 'p50 time', fmtMs],
  [['p95Ms'], 'p95 time', fmtMs],
  [['oomKills', 'oomKilled'], 'OOM kills', fmtNum],
  [['timeouts', 'timedOut'], 'Timeouts', fmtNum],
  [['securityFindings'], 'Security findings', fmtNum],
];
const PROCESS_FIELDS = [
  [['cpuPercent'], 'CPU', pct],
  [['rssBytes'], 'Memory (RSS)', fmtBytes],
  [['peakRssBytes'], 'Peak memory', fmtBytes],
  [['uptimeSecs'], 'Uptime', fmtDuration],
  [['cpuSecondsTotal'], 'CPU time', (v) => fmtMs(v * 1000)],
];
const TRAFFIC_FIELDS = [
  [['activeStreams'], 'Open streams', fmtNum],
  [['requestsTotal'], 'HTTP requests', fmtNum],
  [['authFailures'], 'Auth failures', fmtNum],
  [['rateLimited'], 'Rate limited (429)', fmtNum],
];
/** Top-level snapshot fields that have their own card. */
const CARD_FIELDS = new Set(['process', 'agents', 'tools', 'sandbox', 'mcp', 'alerts', 'invocations', 'suites']);

/** The first of `keys` that `obj` has, or undefined. */
function pick(obj, keys) {
  return obj ? keys.find((k) => k in obj) : undefined;
}

/** Mounts the dashboard page; returns its unmount function. */
export function mount(main) {
  const live = h('span', { class: 'live connecting', role: 'status' }, 'Connecting…');
  const updated = h('span', { class: 'muted small' });
  const cards = {
    process: card('Process', 'process'),
    traffic: card('Traffic', 'traffic'),
    sandbox: card('Sandbox', 'sandbox'),
    agents: card('Agents: requests, latency and tokens', 'agents', true),
    tools: card('Tools: calls and errors', 'tools', true),
    mcp: card('MCP servers', 'mcp', true),
    suites: card('Tool suites', 'suites', true),
    alerts: card('Alerts', 'alerts', true),
  };
  clear(main).append(
    h('div', { class: 'dashboard-page' },
      h('div', { class: 'page-head' }, h('h1', {}, 'Monitoring'), live, updated),
      h('div', { class: 'cards' }, Object.values(cards).map((c) => c.el))));

  let disposed = false;
  let last = 0;
  const render = (snap) => {
    if (disposed || !snap || typeof snap !== 'object') return;
    last = Date.now();
    updated.textContent = `updated ${fmtClock(last / 1000)}`;
    renderSnapshot(cards, snap);
  };

  api('GET', '/api/dashboard').then(render).catch((e) => {
    if (!disposed && !last) setLive('error', `Could not load the dashboard: ${e.message}`);
  });

  const es = new EventSource('/api/dashboard/stream');
  es.onopen = () => setLive('ok', 'Live');
  const onSnapshot = (e) => {
    try {
      render(JSON.parse(e.data));
      setLive('ok', 'Live');
    } catch {
      setLive('error', 'Unreadable update from the server');
    }
  };
  // Snapshots come as unnamed events or as `event: snapshot`.
  es.onmessage = onSnapshot;
  es.addEventListener('snapshot', onSnapshot);
  es.onerror = () => {
    if (disposed) return;
    setLive('error', es.readyState === EventSource.CLOSED ? 'Disconnected' : 'Reconnecting…');
    // EventSource hides the HTTP status: ask whether the session expired.
    api('GET', '/api/me').catch((e) => {
      if (e.status === 401) window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
    });
  };

  function setLive(kind, label) {
    live.className = `live ${kind}`;
    if (live.textContent !== label) live.textContent = label;
  }

  return () => {
    disposed = true;
    es.close();
  };
}

function card(title, key, wide) {
  const body = h('div', { class: 'card-body' }, h('p', { class: 'muted' }, NO_DATA));
  const id = `card-${key}`;
  const el = h('section', { class: wide ? 'card wide' : 'card', 'aria-labelledby': id, dataset: { card: key } },
    h('h2', { id }, title), body);
  return { el, body };
}

/**
 * Accepts the snapshot with its per-agent/tool/sandbox figures at the top level or under
 * `metrics`, and MCP servers as a list or as `{available, servers}`.
 */
function normalise(snap) {
  const m = snap.metrics && typeof snap.metrics === 'object' ? snap.metrics : {};
  const out = { ...m, ...snap };
  delete out.metrics;
  delete out.time;
  for (const k of ['agents', 'tools', 'sandbox', 'invocations']) if (out[k] === undefined && m[k] !== undefined) out[k] = m[k];
  if (snap.mcp && !Array.isArray(snap.mcp) && typeof snap.mcp === 'object') {
    out.mcp = snap.mcp.available === false ? { disabled: true } : snap.mcp.servers;
  }
  if (Array.isArray(out.mcp)) out.mcp = out.mcp.map(mcpRow);
  return out;
}

function renderSnapshot(cards, raw) {
  const snap = normalise(raw);
  fill(cards.process, statList(snap.process, PROCESS_FIELDS));
  const traffic = Object.fromEntries(Object.entries(snap).filter(([k, v]) => !CARD_FIELDS.has(k) && (v === null || typeof v !== 'object')));
  const outcomes = snap.invocations && typeof snap.invocations === 'object' ? snap.invocations : {};
  const outcomeFields = Object.keys(outcomes).map((k) => [[`invocations.${k}`], `Runs ${humanise(k).toLowerCase()}`, fmtNum]);
  for (const [k, v] of Object.entries(outcomes)) traffic[`invocations.${k}`] = v;
  fill(cards.traffic, statList(traffic, [...TRAFFIC_FIELDS, ...outcomeFields]));
  fill(cards.sandbox, statList(snap.sandbox, SANDBOX_FIELDS));
  fill(cards.agents, table(withRates(snap.agents, 'requests'), AGENT_COLS, 'Agents'));
  fill(cards.tools, table(withRates(snap.tools, 'calls'), TOOL_COLS, 'Tools'));
  fill(cards.mcp, snap.mcp && snap.mcp.disabled
    ? h('p', { class: 'muted' }, 'MCP client is not enabled in this server.')
    : table(snap.mcp, MCP_COLS, 'MCP servers', mcpRowClass));
  fill(cards.alerts, alerts(snap.alerts));
  fill(cards.suites, suites(snap.suites));
}

/** Each tool suite: its tools, and what it needs when an external part is missing. */
function suites(list) {
  if (!Array.isArray(list) || !list.length) return null;
  return h('ul', { class: 'suites' }, list.map((s) => {
    const missing = Array.isArray(s.missing) ? s.missing : [];
    const tools = Array.isArray(s.tools) ? s.tools : [];
    const state = !tools.length ? 'no tools yet' : missing.length ? 'needs setup' : 'ready';
    return h('li', { class: missing.length ? 'suite needs' : 'suite', dataset: { suite: s.name } },
      h('strong', {}, s.name), ` — ${state}: ${s.description || ''}`,
      tools.length ? h('div', { class: 'muted small' }, tools.join(', ')) : null,
      missing.map((m) => h('div', { class: 'small' }, `needs ${m.what}: ${m.fix}`)));
  }));
}

function fill(c, content) {
  clear(c.body).append(content || h('p', { class: 'muted' }, NO_DATA));
}

/** Adds an error rate (percent) computed from the row's own counters. */
function withRates(rows, countField) {
  if (!Array.isArray(rows)) return rows;
  return rows.map((r) => {
    if (r && typeof r[countField] === 'number' && typeof r.errors === 'number' && r[countField] > 0 && !('errorRate' in r)) {
      return { ...r, errorRate: (100 * r.errors) / r[countField] };
    }
    return r;
  });
}

/** A definition list of the known fields present, then any other scalar fields. */
function statList(obj, fields) {
  if (!obj || typeof obj !== 'object' || !Object.keys(obj).length) return null;
  const dl = h('dl', { class: 'stats big' });
  const used = new Set();
  for (const [keys, label, fmt] of fields) {
    const k = pick(obj, keys);
    keys.forEach((x) => used.add(x));
    if (k === undefined) continue;
    dl.append(h('div', { dataset: { field: keys[0] } }, h('dt', {}, label), h('dd', {}, fmt(obj[k]))));
  }
  for (const [k, v] of Object.entries(obj)) {
    if (used.has(k) || (v !== null && typeof v === 'object')) continue;
    dl.append(h('div', { dataset: { field: k } }, h('dt', {}, humanise(k)), h('dd', {}, typeof v === 'number' ? fmtNum(v) : text(v))));
  }
  return dl.childElementCount ? dl : null;
}

/** A table of the rows; known columns first (only those present), then extra scalar fields. */
function table(rows, cols, caption, rowClass) {
  if (!Array.isArray(rows) || !rows.length) return null;
  const present = cols.filter(([keys]) => rows.some((r) => pick(r, keys) !== undefined));
  const known = new Set(cols.flatMap(([keys]) => keys));
  const extra = [];
  for (const r of rows) {
    for (const [k, v] of Object.entries(r || {})) {
      if (!known.has(k) && !extra.includes(k) && (v === null || typeof v !== 'object')) extra.push(k);
    }
  }
  const all = [...present, ...extra.map((k) => [[k], humanise(k), (v) => (typeof v === 'number' ? fmtNum(v) : text(v))])];
  const textual = new Set(['name', 'agent', 'tool', 'server', 'lastError', 'connected', 'up', 'state', 'step']);
  const numeric = (keys) => !textual.has(keys[0]);
  const nameOf = (r) => String((r && (r.name ?? r.agent ?? r.tool ?? r.server)) ?? '');
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'sr-only' }, caption),
      h('thead', {}, h('tr', {}, all.map(([keys, label]) => h('th', { scope: 'col', class: numeric(keys) ? 'num' : '' }, label)))),
      h('tbody', {}, rows.map((r) =>
        h('tr', { dataset: { name: nameOf(r) }, class: rowClass ? rowClass(r) : '' },
          all.map(([keys, , fmt], i) => {
            const k = pick(r, keys);
            const v = k === undefined ? undefined : r[k];
            const content = v === undefined ? '—' : fmt(v);
            const title = Array.isArray(v) ? v.join(', ') : null;
            return i === 0
              ? h('th', { scope: 'row', dataset: { field: keys[0] } }, content)
              : h('td', { dataset: { field: keys[0] }, class: numeric(keys) ? 'num' : '', title }, content);
          }))))));
}

function alerts(list) {
  if (!Array.isArray(list)) return null;
  if (!list.length) return h('p', { class: 'muted' }, 'No alerts.');
  const sorted = [...list].reverse();
  return h('ul', { class: 'alerts' },
    sorted.map((a) => h('li', { class: `alert sev-${String(a.severity || 'warning').toLowerCase().replace(/[^a-z]/g, '')}` },
      a.severity ? h('span', { class: 'sev' }, text(a.severity)) : null,
      h('time', {}, fmtTime(a.time)),
      h('strong', {}, text(a.rule)),
      a.subject ? h('span', { class: 'muted' }, text(a.subject)) : null,
      h('span', {}, text(a.message)))));
}

function humanise(k) {
  const s = String(k).replace(/([a-z0-9])([A-Z])/g, '$1 $2').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
}
