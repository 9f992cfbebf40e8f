// The audit page: full-text search and filters over GET /audit.

import { api } from './api.js';
import { h, clear, fmtTime, pretty, toDate } from './dom.js';

/** Kinds of audit records the server writes. */
const KINDS = ['run', 'tool_call', 'sandbox', 'mcp_call', 'approval', 'login', 'auth_failure', 'alert', 'key'];

/** Mounts the audit page; returns its unmount function. */
export function mount(main, ctx, params) {
  const q = h('input', { id: 'audit-q', name: 'q', type: 'search', placeholder: 'Search runs, tool calls, approvals, logins…', value: params.get('q') || '' });
  const agent = h('select', { id: 'audit-agent', name: 'agent' },
    h('option', { value: '' }, 'Any agent'),
    ctx.agents.map((a) => h('option', { value: a.name }, a.name)));
  agent.value = params.get('agent') || '';
  const kind = h('select', { id: 'audit-kind', name: 'kind' },
    h('option', { value: '' }, 'Any kind'),
    KINDS.map((k) => h('option', { value: k }, k.replace(/_/g, ' '))));
  kind.value = params.get('kind') || '';
  const user = h('input', { id: 'audit-user', name: 'user', type: 'text', value: params.get('user') || '', autocomplete: 'off' });
  const from = h('input', { id: 'audit-from', name: 'from', type: 'datetime-local', step: 1, value: toLocalInput(params.get('from')) });
  const to = h('input', { id: 'audit-to', name: 'to', type: 'datetime-local', step: 1, value: toLocalInput(params.get('to')) });
  const status = h('p', { class: 'muted', role: 'status', 'aria-live': 'polite' });
  const results = h('div', { class: 'audit-results' });
  const field = (label, input) => h('div', { class: 'field' }, h('label', { for: input.id }, label), input);
  const form = h('form', { class: 'audit-form', role: 'search', 'aria-label': 'Audit log' },
    h('div', { class: 'field grow' }, h('label', { for: 'audit-q' }, 'Search'), q),
    field('Agent', agent),
    field('Kind', kind),
    field('User', user),
    field('From', from),
    field('To', to),
    h('div', { class: 'field buttons' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Search'),
      h('button', { type: 'button', class: 'btn', onclick: reset }, 'Clear')));
  clear(main).append(h('div', { class: 'audit-page' }, h('div', { class: 'page-head' }, h('h1', {}, 'Audit log')), form, status, results));

  let disposed = false;
  let seq = 0;

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  agent.addEventListener('change', () => search());
  kind.addEventListener('change', () => search());

  function reset() {
    q.value = '';
    agent.value = '';
    kind.value = '';
    user.value = '';
    from.value = '';
    to.value = '';
    search();
  }

  function query() {
    const p = new URLSearchParams();
    if (q.value.trim()) p.set('q', q.value.trim());
    if (agent.value) p.set('agent', agent.value);
    if (kind.value) p.set('kind', kind.value);
    if (user.value.trim()) p.set('user', user.value.trim());
    // Bounds go as seconds since the epoch: unambiguous whatever the browser's time zone.
    if (from.value) p.set('from', String(Math.floor(new Date(from.value).getTime() / 1000)));
    if (to.value) p.set('to', String(Math.ceil(new Date(to.value).getTime() / 1000)));
    return p;
  }

  async function search() {
    const p = query();
    history.replaceState(null, '', `#/audit${p.toString() ? `?${p}` : ''}`);
    const mine = ++seq;
    status.textContent = 'Searching…';
    results.setAttribute('aria-busy', 'true');
    try {
      const rows = (await api('GET', `/audit${p.toString() ? `?${p}` : ''}`)) || [];
      if (disposed || mine !== seq) return;
      const list = Array.isArray(rows) ? rows : rows.records || rows.entries || [];
      status.textContent = list.length === 1 ? '1 entry' : `${list.length} entries`;
      clear(results).append(list.length ? table(list) : h('p', { class: 'empty-inline' }, 'Nothing matches these filters.'));
    } catch (e) {
      if (disposed || mine !== seq) return;
      status.textContent = '';
      clear(results).append(h('p', { class: 'form-error', role: 'alert' }, `Search failed: ${e.message}`));
    } finally {
      if (mine === seq) results.removeAttribute('aria-busy');
    }
  }

  search();
  return () => {
    disposed = true;
  };
}

function table(rows) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'audit' },
      h('caption', { class: 'sr-only' }, 'Audit entries, newest first'),
      h('thead', {}, h('tr', {}, ['Time', 'Kind', 'Agent', 'User', 'Session', 'Summary'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows.map(row))));
}

function row(r) {
  // Field names as the server sends them (with the store's names as aliases).
  const sess = r.session ?? r.sessionId ?? r.session_id ?? '';
  const user = r.user ?? r.userId ?? r.user_id ?? '';
  const details = r.details !== undefined ? r.details : r.data;
  const session = sess
    ? r.agent
      ? h('a', { href: `#/chat?${new URLSearchParams({ agent: r.agent, session: sess })}`, title: `Open session ${sess}` }, String(sess).slice(0, 8))
      : h('span', { title: sess }, String(sess).slice(0, 8))
    : '—';
  const hasDetails = details != null && details !== '' && !(typeof details === 'object' && !Object.keys(details).length);
  const summary = hasDetails
    ? h('details', {}, h('summary', {}, String(r.summary ?? '')), h('pre', { class: 'json' }, pretty(details)))
    : String(r.summary ?? '');
  return h('tr', { dataset: { kind: String(r.kind ?? ''), session: String(sess) } },
    h('td', { class: 'nowrap' }, h('time', { datetime: toDate(r.time)?.toISOString() || '' }, fmtTime(r.time))),
    h('td', {}, h('span', { class: 'kind' }, String(r.kind ?? ''))),
    h('td', {}, r.agent ? String(r.agent) : '—'),
    h('td', {}, user ? String(user) : '—'),
    h('td', { class: 'mono' }, session),
    h('td', { class: 'summary' }, summary));
}

/** An ISO time from the URL as the value of a datetime-local input (local time). */
function toLocalInput(iso) {
  const d = toDate(iso);
  if (!d) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}
