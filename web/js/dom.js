// DOM and formatting helpers. Every piece of text goes through text nodes or textContent:
// nothing from the server or a model is ever parsed as HTML.

/**
 * Creates an element. `attrs`: `class`, `dataset` (object), `style` (object of CSS
 * properties), `on<event>` (listener), booleans (present/absent), anything else as an attribute.
 * Children: nodes, strings (as text), arrays, null/false (skipped).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'style') for (const [p, val] of Object.entries(v)) el.style.setProperty(p, String(val));
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Appends children (nodes, strings as text, arrays; null/false skipped). */
export function append(el, children) {
  for (const c of [children].flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Removes every child of `el`. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Pretty JSON for display (strings shown as they are). */
export function pretty(v) {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v, null, 2);
  } catch {
    return String(v);
  }
}

const nf = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

/** A number for display, or an em dash when it is not a finite number. */
export function fmtNum(v) {
  return typeof v === 'number' && Number.isFinite(v) ? nf.format(v) : '—';
}

/** Milliseconds as "12 ms" / "1.4 s". */
export function fmtMs(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (v < 1000) return `${nf.format(v)} ms`;
  return `${nf.format(v / 1000)} s`;
}

/** Bytes as "12.3 MiB". */
export function fmtBytes(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let n = v;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i += 1;
  }
  return `${nf.format(n)} ${units[i]}`;
}

/** Seconds as "3d 4h", "5m 12s". */
export function fmtDuration(secs) {
  if (typeof secs !== 'number' || !Number.isFinite(secs)) return '—';
  const s = Math.floor(secs);
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d}d ${hr}h`;
  if (hr) return `${hr}h ${m}m`;
  if (m) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

/**
 * A Date from a server time: seconds since the epoch (ADK's float timestamps), milliseconds
 * (numbers above 1e12) or an ISO 8601 / RFC 3339 string. `null` when unparsable.
 */
export function toDate(t) {
  if (t == null || t === '') return null;
  if (typeof t === 'number') return new Date(t > 1e12 ? t : t * 1000);
  if (typeof t === 'string' && /^\d+(\.\d+)?$/.test(t)) return toDate(Number(t));
  const d = new Date(t);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** A server time as local date and time ("2026-11-25 13:04:05"). */
export function fmtTime(t) {
  const d = toDate(t);
  if (!d) return t == null ? '—' : String(t);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** A server time as local clock time ("13:04:05"). */
export function fmtClock(t) {
  const d = toDate(t);
  if (!d) return '';
  return d.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

/** An agent path ("vana/data_science") as its segments. */
export function pathSegments(path) {
  return String(path || '').split('/').filter(Boolean);
}

/** A breadcrumb element for an agent path: `vana › data_science`. */
export function breadcrumb(path, fallback) {
  const segs = pathSegments(path);
  if (!segs.length && fallback) segs.push(fallback);
  const el = h('span', { class: 'crumbs', title: segs.join(' › ') });
  segs.forEach((s, i) => {
    if (i) el.append(h('span', { class: 'crumb-sep', 'aria-hidden': 'true' }, ' › '));
    el.append(h('span', { class: i === segs.length - 1 ? 'crumb crumb-last' : 'crumb' }, s));
  });
  return el;
}

/** Keeps a scroll container pinned to the bottom while the user has not scrolled up. */
export function stickToBottom(scroller) {
  let pinned = true;
  scroller.addEventListener('scroll', () => {
    pinned = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 48;
  });
  return {
    update() {
      if (pinned) scroller.scrollTop = scroller.scrollHeight;
    },
    force() {
      pinned = true;
      scroller.scrollTop = scroller.scrollHeight;
    },
  };
}

const ICONS = {
  tool: 'M14.7 6.3a1 1 0 0 0 0 1.4l1.6 1.6a1 1 0 0 0 1.4 0l3.77-3.77a6 6 0 0 1-7.94 7.94l-6.91 6.91a2.12 2.12 0 0 1-3-3l6.91-6.91a6 6 0 0 1 7.94-7.94l-3.76 3.76z',
  trash: 'M3 6h18M8 6V4h8v2M19 6l-1 14H6L5 6M10 11v5M14 11v5',
  pencil: 'M17 3l4 4L8 20H4v-4zM14 6l4 4',
  pause: 'M10 4H6v16h4zM18 4h-4v16h4z',
  alert: 'M10.29 3.86L1.82 18a2 2 0 0 0 1.71 3h16.94a2 2 0 0 0 1.71-3L13.71 3.86a2 2 0 0 0-3.42 0zM12 9v4M12 17h.01',
  handover: 'M15 10l5 5-5 5M4 4v7a4 4 0 0 0 4 4h12',
};

/** A decorative inline SVG icon (hidden from assistive technology). */
export function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', `icon icon-${name}`);
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name] || '');
  svg.append(path);
  return svg;
}
