// Renders a stream of ADK events (plus VANA's agentPath and timing) as a chat transcript:
// message bubbles that grow token by token, tool cards, delegation markers, inline images,
// approval requests and errors. All text goes into text nodes.

import { h, append, clear, icon, pretty, fmtMs, fmtBytes, fmtNum, fmtClock, breadcrumb, pathSegments } from './dom.js';

const TRANSFER_TOOL = 'transfer_to_agent';
const CONFIRMATION_CALL = 'adk_request_confirmation';
const CODE_TOOLS = new Set(['execute_code', 'debug_code']);
const MAX_DEPTH = 6;

/** The transcript of one session. */
export class Transcript {
  /**
   * @param {HTMLElement} list the element that receives the items
   * @param {{onDecision?: (callId: string, approved: boolean) => void, onChange?: () => void}} hooks
   */
  constructor(list, hooks = {}) {
    this.list = list;
    this.hooks = hooks;
    this.reset();
  }

  /** Forgets everything and empties the list. */
  reset() {
    clear(this.list);
    this.streams = new Map(); // invocation|author|branch -> open bubble
    this.cards = new Map(); // call id -> tool card
    this.approvals = new Map(); // call id -> approval card
    this.pendingUser = []; // local user bubbles not yet echoed by the server
    this.seen = new Set(); // ids of non-partial events already rendered
    this.handovers = new Set(); // invocation|author|target of delegations already shown
  }

  /** Shows the user's message right away. It stays dimmed until the server answers: ADK's
   * /run_sse does not echo the user's own event, so the run's first event (or a reload that
   * replays the stored user event) marks it delivered. */
  addLocalUser(text) {
    const item = this.userBubble(text, Date.now() / 1000);
    item.classList.add('pending');
    this.pendingUser.push({ item, text });
    this.changed();
    return item;
  }

  /** The server started answering: the messages sent so far were received. */
  delivered() {
    for (const p of this.pendingUser.splice(0)) p.item.classList.remove('pending');
  }

  /** Shows an error that did not come as an event (HTTP failure, dropped stream). */
  addError(message, code) {
    this.push(
      h('li', { class: 'item error', role: 'alert' },
        icon('alert'),
        h('div', {},
          code ? h('strong', {}, `${code}: `) : null,
          String(message))),
    );
  }

  /** Adds a notice (e.g. "stopped"). */
  addNotice(message) {
    this.push(h('li', { class: 'item notice' }, message));
  }

  /** Renders one event. */
  add(ev) {
    if (!ev || typeof ev !== 'object') return;
    if (!('author' in ev) && ev.error) {
      this.closeAllStreams();
      this.addError(typeof ev.error === 'string' ? ev.error : pretty(ev.error));
      return;
    }
    if (ev.author && ev.author !== 'user') this.delivered();
    if (ev.partial) {
      this.partial(ev);
      return;
    }
    if (ev.id) {
      if (this.seen.has(ev.id)) return;
      this.seen.add(ev.id);
    }
    const parts = (ev.content && Array.isArray(ev.content.parts)) ? ev.content.parts : [];
    if (ev.author === 'user') {
      this.userEvent(ev, parts);
      return;
    }
    const text = parts.filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
    let key = streamKey(ev);
    if (!this.streams.has(key)) {
      // Tolerate a final event whose branch differs from its chunks': same invocation and author.
      const prefix = `${ev.invocationId || ''}|${ev.author || ''}|`;
      key = [...this.streams.keys()].find((k) => k.startsWith(prefix)) || key;
    }
    const open = this.streams.get(key);
    this.streams.delete(key);
    let bubble = null;
    if (text.trim()) {
      bubble = open || this.agentBubble(ev);
      setMessageText(bubble.body, text);
      bubble.item.classList.remove('streaming');
      bubble.item.removeAttribute('aria-busy');
    } else if (open) {
      open.item.classList.remove('streaming');
      open.item.removeAttribute('aria-busy');
      if (!open.text.trim()) open.item.remove();
    }
    if (bubble) this.footer(bubble, ev);

    for (const p of parts) {
      if (p.functionCall) this.call(ev, p.functionCall);
      else if (p.functionResponse) this.response(ev, p.functionResponse);
      else if (p.inlineData) this.inline(ev, p.inlineData);
    }
    const confirmations = ev.actions && ev.actions.requestedToolConfirmations;
    if (confirmations && typeof confirmations === 'object') {
      for (const [callId, req] of Object.entries(confirmations)) this.approval(ev, callId, req || {});
    }
    const target = ev.actions && ev.actions.transferToAgent;
    if (target && !this.handovers.has(`${ev.invocationId}|${ev.author}|${target}`)) this.delegation(ev, target);
    if (ev.errorCode || ev.errorMessage) {
      this.closeAllStreams();
      this.push(
        h('li', { class: 'item error', role: 'alert', style: depthStyle(ev) },
          icon('alert'),
          h('div', {},
            h('div', { class: 'meta' }, breadcrumb(ev.agentPath, ev.author)),
            ev.errorCode ? h('strong', {}, `${ev.errorCode}: `) : null,
            ev.errorMessage || 'the agent failed without a message')),
      );
    }
    this.changed();
  }

  /** Marks an approval card as decided (used live and when replaying a session). */
  markDecision(callId, approved) {
    const card = this.approvals.get(callId);
    if (card) card.decide(approved);
    const tool = this.cards.get(callId);
    if (tool && !tool.hasResult) tool.setStatus(approved ? 'running' : 'denied', approved ? 'approved, running…' : 'denied');
  }

  /** Ends streaming bubbles left open (the stream ended or failed). */
  closeAllStreams() {
    for (const s of this.streams.values()) {
      s.item.classList.remove('streaming');
      s.item.removeAttribute('aria-busy');
      if (!s.text.trim()) s.item.remove();
    }
    this.streams.clear();
  }

  // ---- items ----

  push(item) {
    if (Number(item.style.getPropertyValue('--depth')) > 0) item.classList.add('nested');
    this.list.append(item);
    this.changed();
    return item;
  }

  changed() {
    if (this.hooks.onChange) this.hooks.onChange();
  }

  userBubble(text, ts) {
    const body = h('div', { class: 'body' });
    setMessageText(body, text);
    return this.push(
      h('li', { class: 'item msg user' },
        h('div', { class: 'meta' }, h('span', { class: 'who' }, 'You'), h('time', {}, fmtClock(ts))),
        body),
    );
  }

  userEvent(ev, parts) {
    const text = parts.filter((p) => typeof p.text === 'string').map((p) => p.text).join('');
    for (const p of parts) {
      const r = p.functionResponse;
      if (r && r.name === CONFIRMATION_CALL && r.id) {
        const confirmed = r.response && (r.response.confirmed === true || r.response.approved === true);
        this.markDecision(r.id, confirmed);
      }
    }
    if (text) {
      const i = this.pendingUser.findIndex((p) => p.text.trim() === text.trim());
      if (i >= 0) {
        const [p] = this.pendingUser.splice(i, 1);
        p.item.classList.remove('pending');
        if (ev.id) p.item.dataset.eventId = ev.id;
      } else {
        this.userBubble(text, ev.timestamp).dataset.eventId = ev.id || '';
      }
    }
    for (const p of parts) if (p.inlineData) this.inline(ev, p.inlineData);
  }

  agentBubble(ev) {
    const body = h('div', { class: 'body' });
    const meta = h('div', { class: 'meta' }, breadcrumb(ev.agentPath, ev.author), h('time', {}, fmtClock(ev.timestamp)));
    const item = this.push(
      h('li', { class: 'item msg agent', style: depthStyle(ev), dataset: { author: ev.author || '', agentPath: ev.agentPath || '' } }, meta, body),
    );
    return { item, body, meta, text: '' };
  }

  partial(ev) {
    const delta = ((ev.content && ev.content.parts) || []).filter((p) => typeof p.text === 'string' && !p.thought).map((p) => p.text).join('');
    if (!delta) return;
    const key = streamKey(ev);
    let s = this.streams.get(key);
    if (!s) {
      s = this.agentBubble(ev);
      s.item.classList.add('streaming');
      s.item.setAttribute('aria-busy', 'true');
      this.streams.set(key, s);
    }
    s.text += delta;
    s.body.textContent = s.text;
    this.changed();
  }

  footer(bubble, ev) {
    const bits = [];
    const u = ev.usageMetadata;
    if (u && (u.promptTokenCount != null || u.candidatesTokenCount != null)) {
      bits.push(`${fmtNum(u.promptTokenCount ?? 0)} tokens in · ${fmtNum(u.candidatesTokenCount ?? 0)} out`);
    }
    if (ev.timing && typeof ev.timing.modelMs === 'number') bits.push(`model ${fmtMs(ev.timing.modelMs)}`);
    if (bits.length) bubble.item.append(h('div', { class: 'foot' }, bits.join(' · ')));
  }

  delegation(ev, target) {
    this.handovers.add(`${ev.invocationId}|${ev.author}|${target}`);
    this.push(
      h('li', { class: 'item delegation', style: depthStyle(ev) },
        icon('handover'),
        breadcrumb(ev.agentPath, ev.author),
        ' hands over to ',
        h('strong', {}, target)),
    );
  }

  call(ev, fc) {
    if (fc.name === CONFIRMATION_CALL) return; // shown from actions.requestedToolConfirmations
    if (fc.name === TRANSFER_TOOL) {
      const target = fc.args && fc.args.agent_name;
      this.delegation(ev, target || '(unknown agent)');
      return;
    }
    const card = new ToolCard(ev, fc);
    if (fc.id) this.cards.set(fc.id, card);
    this.push(card.item);
  }

  response(ev, fr) {
    if (fr.name === TRANSFER_TOOL) {
      const err = fr.response && fr.response.error;
      if (err) this.addError(String(err), 'transfer failed');
      return;
    }
    let card = fr.id ? this.cards.get(fr.id) : null;
    if (!card) {
      // A response without a visible call (e.g. the call is outside the loaded history window).
      card = new ToolCard(ev, { id: fr.id, name: fr.name, args: undefined });
      if (fr.id) this.cards.set(fr.id, card);
      this.push(card.item);
    }
    card.setResult(fr.response, ev);
    const approval = fr.id && this.approvals.get(fr.id);
    if (approval && !approval.decided) approval.decide(!(fr.response && fr.response.error === 'the user denied this tool call'));
  }

  inline(ev, blob) {
    const mime = String(blob.mimeType || '');
    const data = normaliseBase64(blob.data);
    const name = blob.displayName || '';
    const fig = h('li', { class: 'item media', style: depthStyle(ev) });
    if (!/^[\w.+-]+\/[\w.+-]+$/.test(mime) || data == null) {
      fig.append(h('div', { class: 'error', role: 'alert' }, `unreadable attachment ${name}`.trim()));
    } else if (mime.startsWith('image/')) {
      fig.append(
        h('figure', {},
          h('img', { src: `data:${mime};base64,${data}`, alt: name || `image from ${ev.author || 'the agent'}`, loading: 'lazy' }),
          name ? h('figcaption', {}, name) : null),
      );
    } else {
      fig.append(h('a', { href: `data:${mime};base64,${data}`, download: name || 'attachment', class: 'attachment' }, `⬇ ${name || mime}`));
    }
    this.push(fig);
  }

  approval(ev, callId, req) {
    if (this.approvals.has(callId)) return;
    const card = new ApprovalCard(ev, callId, req, (approved) => {
      if (this.hooks.onDecision) this.hooks.onDecision(callId, approved, card);
    });
    this.approvals.set(callId, card);
    const tool = this.cards.get(callId);
    if (tool && !tool.hasResult) tool.setStatus('waiting', 'waiting for approval');
    this.push(card.item);
  }
}

/** A tool call: name, arguments, then its result and time. */
class ToolCard {
  constructor(ev, fc) {
    this.name = fc.name || '(unnamed tool)';
    this.hasResult = false;
    this.status = h('span', { class: 'status running' }, 'running…');
    this.time = h('span', { class: 'time' });
    this.result = h('div', { class: 'result' });
    const args = fc.args;
    const argsView = CODE_TOOLS.has(this.name) && args && typeof args.code === 'string'
      ? codeArgs(args)
      : h('pre', { class: 'json' }, args === undefined ? '(not in the loaded history)' : pretty(args));
    this.item = h('li', { class: 'item tool-card', style: depthStyle(ev), dataset: { tool: this.name, callId: fc.id || '' } },
      h('div', { class: 'tool-head' },
        icon('tool'),
        h('strong', { class: 'tool-name' }, this.name),
        h('span', { class: 'by' }, 'by ', breadcrumb(ev.agentPath, ev.author)),
        h('time', {}, fmtClock(ev.timestamp)),
        this.time,
        this.status),
      h('details', { class: 'args', open: true }, h('summary', {}, 'Arguments'), argsView),
      this.result);
  }

  setStatus(kind, label) {
    this.status.className = `status ${kind}`;
    this.status.textContent = label;
  }

  setResult(response, ev) {
    this.hasResult = true;
    clear(this.result);
    const isErr = response && typeof response === 'object' && !Array.isArray(response) && 'error' in response && Object.keys(response).length <= 2;
    const code = CODE_TOOLS.has(this.name) && response && typeof response === 'object' && !isErr && codeResult(response);
    if (isErr) {
      this.setStatus('failed', 'error');
      this.item.classList.add('failed');
      this.result.append(h('div', { class: 'label' }, 'Error'), h('pre', { class: 'stderr', role: 'alert' }, pretty(response.error)));
    } else if (code) {
      const failed = typeof response.exitCode === 'number' && response.exitCode !== 0;
      this.setStatus(failed ? 'failed' : 'done', failed ? `exit ${response.exitCode}` : 'done');
      this.result.append(code);
    } else {
      this.setStatus('done', 'done');
      this.result.append(h('div', { class: 'label' }, 'Result'), h('pre', { class: 'json' }, pretty(response)));
    }
    const ms = ev.timing && typeof ev.timing.toolMs === 'number' ? ev.timing.toolMs : null;
    this.time.textContent = ms != null ? fmtMs(ms) : '';
  }
}

/** The code and language of an execute_code/debug_code call (other arguments as JSON). */
function codeArgs(args) {
  const rest = { ...args };
  delete rest.code;
  delete rest.language;
  return h('div', {},
    args.language ? h('div', { class: 'code-lang' }, String(args.language)) : null,
    h('pre', { class: 'code', dataset: { language: args.language || '' } }, h('code', {}, args.code)),
    Object.keys(rest).length ? h('pre', { class: 'json' }, pretty(rest)) : null);
}

/** stdout/stderr and resource usage of a code execution, or null when the fields are absent. */
function codeResult(r) {
  const shown = ['stdout', 'stderr', 'exitCode', 'signal', 'wallTimeMs', 'cpuTimeMs', 'peakMemoryBytes', 'timedOut', 'oomKilled', 'pidsLimitHit', 'files', 'findings'];
  if (!['stdout', 'stderr', 'exitCode', 'wallTimeMs', 'peakMemoryBytes'].some((k) => k in r)) return null;
  const stats = [];
  const stat = (label, value) => stats.push(h('div', {}, h('dt', {}, label), h('dd', {}, value)));
  if ('exitCode' in r) stat('Exit code', r.exitCode == null ? '—' : String(r.exitCode));
  if (r.signal != null && r.signal !== '') stat('Signal', String(r.signal));
  if ('wallTimeMs' in r) stat('Wall time', fmtMs(r.wallTimeMs));
  if ('cpuTimeMs' in r) stat('CPU time', fmtMs(r.cpuTimeMs));
  if ('peakMemoryBytes' in r) stat('Peak memory', fmtBytes(r.peakMemoryBytes));
  if (r.timedOut) stat('Timed out', 'yes');
  if (r.oomKilled) stat('Out of memory', 'killed');
  if (r.pidsLimitHit) stat('Process limit', 'hit');
  const out = h('div', { class: 'code-result' });
  if (stats.length) out.append(h('dl', { class: 'stats' }, stats));
  const trunc = (flag) => (flag ? ' (truncated)' : '');
  out.append(h('div', { class: 'label' }, `stdout${trunc(r.stdoutTruncated)}`), h('pre', { class: 'stdout' }, r.stdout ? String(r.stdout) : '(empty)'));
  if (r.stderr) out.append(h('div', { class: 'label' }, `stderr${trunc(r.stderrTruncated)}`), h('pre', { class: 'stderr' }, String(r.stderr)));
  if (Array.isArray(r.findings) && r.findings.length) {
    out.append(h('div', { class: 'label' }, 'Security findings'),
      h('ul', { class: 'findings', role: 'alert' }, r.findings.map((f) => h('li', {}, typeof f === 'string' ? f : pretty(f)))));
  }
  if (Array.isArray(r.files) && r.files.length) {
    out.append(h('div', { class: 'label' }, 'Files'),
      h('ul', { class: 'files' }, r.files.map((f) => h('li', {}, typeof f === 'string' ? f : `${f.path ?? '?'}${typeof f.size === 'number' ? ` (${fmtBytes(f.size)})` : ''}`))));
  }
  const rest = Object.fromEntries(Object.entries(r).filter(([k]) => !shown.includes(k)));
  if (Object.keys(rest).length) {
    out.append(h('details', { class: 'more' }, h('summary', {}, 'More'), h('pre', { class: 'json' }, pretty(rest))));
  }
  return out;
}

/** A paused tool call waiting for the user's decision. */
class ApprovalCard {
  constructor(ev, callId, req, onDecide) {
    this.decided = false;
    this.callId = callId;
    const tool = req.tool || '(tool)';
    this.state = h('p', { class: 'decision', role: 'status' });
    this.error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    this.approve = h('button', { type: 'button', class: 'btn btn-primary', onclick: () => onDecide(true) }, 'Approve');
    this.deny = h('button', { type: 'button', class: 'btn btn-danger', onclick: () => onDecide(false) }, 'Deny');
    this.item = h('li', { class: 'item approval', style: depthStyle(ev), dataset: { callId } },
      h('div', { class: 'tool-head' },
        icon('pause'),
        h('strong', {}, 'Approval needed: '),
        h('span', { class: 'tool-name' }, tool),
        h('span', { class: 'by' }, 'by ', breadcrumb(ev.agentPath, ev.author))),
      req.hint ? h('p', { class: 'hint' }, inline(String(req.hint))) : null,
      req.args !== undefined ? h('pre', { class: 'json' }, pretty(req.args)) : null,
      h('div', { class: 'actions' }, this.approve, this.deny),
      this.state,
      this.error);
  }

  /** Disables the buttons while the decision is sent. */
  busy(on) {
    this.approve.disabled = on;
    this.deny.disabled = on;
    this.error.hidden = true;
  }

  /** Shows the decision and removes the buttons. */
  decide(approved) {
    this.decided = true;
    this.approve.remove();
    this.deny.remove();
    this.item.classList.add(approved ? 'approved' : 'denied');
    this.state.textContent = approved ? '✓ Approved' : '✗ Denied';
  }

  /** Shows why sending the decision failed, and re-enables the buttons. */
  fail(message) {
    this.busy(false);
    this.error.textContent = message;
    this.error.hidden = false;
  }
}

function streamKey(ev) {
  return `${ev.invocationId || ''}|${ev.author || ''}|${ev.branch || ''}`;
}

function depthStyle(ev) {
  const depth = Math.min(Math.max(pathSegments(ev.agentPath).length - 1, 0), MAX_DEPTH);
  return { '--depth': depth };
}

/** Base64 from standard or URL-safe alphabets; null when it is not base64. */
function normaliseBase64(data) {
  if (typeof data !== 'string') return null;
  const s = data.replace(/\s+/g, '').replace(/-/g, '+').replace(/_/g, '/');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s)) return null;
  return s + '='.repeat((4 - (s.length % 4)) % 4);
}

/**
 * Renders message text with a little Markdown: fenced code blocks, inline `code`, **bold**
 * and paragraphs. Built from text nodes only.
 */
export function setMessageText(el, text) {
  clear(el);
  const chunks = String(text).split(/```/);
  chunks.forEach((chunk, i) => {
    if (i % 2 === 1) {
      const nl = chunk.indexOf('\n');
      const lang = nl > 0 ? chunk.slice(0, nl).trim() : '';
      const code = nl >= 0 && /^[\w+-]*$/.test(lang) ? chunk.slice(nl + 1) : chunk;
      el.append(h('pre', { class: 'code', dataset: { language: lang } }, h('code', {}, code.replace(/\n$/, ''))));
      return;
    }
    for (const para of chunk.split(/\n{2,}/)) {
      if (!para.trim()) continue;
      el.append(append(h('p', {}), inline(para)));
    }
  });
}

function inline(text) {
  const out = [];
  const re = /`([^`\n]+)`|\*\*([^*\n]+)\*\*/g;
  let last = 0;
  let m;
  while ((m = re.exec(text))) {
    if (m.index > last) out.push(text.slice(last, m.index));
    out.push(m[1] != null ? h('code', {}, m[1]) : h('strong', {}, m[2]));
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
