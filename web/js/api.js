// The HTTP API: JSON calls, the POST-based event streams (/run_sse, approvals) and URL
// builders. The session cookie set by POST /api/login travels with every same-origin request.

/** An HTTP error with the server's JSON `{error}` message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** Fired on `window` when the server answers 401 to a call made while signed in. */
export const UNAUTHORIZED = 'vana:unauthorized';

const seg = encodeURIComponent;

/** URL of a user's sessions of one app (agent). */
export function sessionsUrl(app, user) {
  return `/apps/${seg(app)}/users/${seg(user)}/sessions`;
}

/** URL of one session. */
export function sessionUrl(app, user, id) {
  return `${sessionsUrl(app, user)}/${seg(id)}`;
}

/** URL of the approval endpoint of a paused tool call. */
export function approvalUrl(app, user, id, callId) {
  return `${sessionUrl(app, user, id)}/approvals/${seg(callId)}`;
}

/** Reads an error message from a failed response: `{error}` JSON, else the status line. */
async function errorMessage(res) {
  let text = '';
  try {
    text = await res.text();
  } catch {
    /* body unreadable: fall through to the status line */
  }
  if (text) {
    try {
      const j = JSON.parse(text);
      if (j && typeof j.error === 'string') return j.error;
      if (j && j.error && typeof j.error.message === 'string') return j.error.message;
      if (j && typeof j.detail === 'string') return j.detail;
    } catch {
      /* not JSON */
    }
    if (text.length < 300) return `${res.status} ${res.statusText}: ${text}`;
  }
  return `${res.status} ${res.statusText || 'error'}`;
}

function check401(res, path) {
  if (res.status === 401 && !path.startsWith('/api/login') && !path.startsWith('/api/me')) {
    window.dispatchEvent(new CustomEvent(UNAUTHORIZED));
  }
}

/** Calls a JSON endpoint; resolves to the parsed body (or null), rejects with ApiError. */
export async function api(method, path, body, { signal } = {}) {
  const opts = { method, headers: { Accept: 'application/json' }, signal, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, opts);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach the VANA server (${e.message})`);
  }
  check401(res, path);
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  const text = await res.text();
  if (!text) return null;
  const ct = res.headers.get('content-type') || '';
  if (ct.includes('json')) return JSON.parse(text);
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * POSTs `body` and yields every server-sent event's `data` parsed as JSON. A stream event
 * named `error`, or data that is not JSON, is yielded as `{error: "..."}` so callers show it.
 */
export async function* postSse(path, body, { signal } = {}) {
  let res;
  try {
    res = await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
      signal,
      credentials: 'same-origin',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `cannot reach the VANA server (${e.message})`);
  }
  check401(res, path);
  if (!res.ok) throw new ApiError(res.status, await errorMessage(res));
  const ct = res.headers.get('content-type') || '';
  if (!ct.includes('text/event-stream')) {
    // A JSON answer (e.g. nothing left to resume): yield its events if any.
    const text = await res.text();
    if (!text) return;
    const j = JSON.parse(text);
    // An array of events, or {events: [...]} (e.g. an approval recorded while others wait).
    const list = Array.isArray(j) ? j : Array.isArray(j && j.events) ? j.events : [j];
    for (const e of list) yield e;
    return;
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (value) buf += value;
    // Events end with a blank line (\n\n, \r\n\r\n or \r\r).
    let m;
    while ((m = /\r\n\r\n|\n\n|\r\r/.exec(buf))) {
      const block = buf.slice(0, m.index);
      buf = buf.slice(m.index + m[0].length);
      const ev = parseBlock(block);
      if (ev) yield ev;
    }
    if (done) break;
  }
  const tail = parseBlock(buf);
  if (tail) yield tail;
}

/** Parses one SSE block into its JSON data (null for comments/keep-alives). */
export function parseBlock(block) {
  let name = 'message';
  const data = [];
  for (const line of block.split(/\r\n|\n|\r/)) {
    if (!line || line.startsWith(':')) continue;
    const i = line.indexOf(':');
    const field = i < 0 ? line : line.slice(0, i);
    let value = i < 0 ? '' : line.slice(i + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') name = value;
  }
  if (!data.length) return null;
  const raw = data.join('\n');
  let parsed;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return { error: name === 'error' ? raw : `unreadable event from the server: ${raw.slice(0, 200)}` };
  }
  if (name === 'error' && (parsed == null || typeof parsed !== 'object' || !('error' in parsed))) {
    return { error: typeof parsed === 'string' ? parsed : JSON.stringify(parsed) };
  }
  return parsed;
}
