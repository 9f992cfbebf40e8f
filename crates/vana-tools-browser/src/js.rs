//! The JavaScript the tools run in pages (our own code, never the model's): reading text,
//! finding elements by label or text, filling fields and scraping rows. Each is a function
//! expression called with JSON arguments.

/// `(selector, mode) -> {text, scope} | {matches, texts}`: the page's readable text, or the
/// text of every element a selector matches.
pub const EXTRACT_TEXT: &str = r#"(sel, mode) => {
  const clean = (s) => String(s || '').replace(/[ \t\u00a0]+/g, ' ').replace(/ *\n */g, '\n').replace(/\n{3,}/g, '\n\n').trim();
  if (sel) {
    const els = [...document.querySelectorAll(sel)];
    return { matches: els.length, texts: els.slice(0, 200).map((e) => clean(e.innerText ?? e.textContent)) };
  }
  const body = document.body || document.documentElement;
  if (mode !== 'all') {
    const main = document.querySelector('main, article, [role=main]');
    if (main && main.innerText.trim().length > 80) return { text: clean(main.innerText), scope: main.tagName.toLowerCase() === 'article' ? 'article' : 'main' };
  }
  return { text: clean(body ? body.innerText : ''), scope: 'body' };
}"#;

/// `(label) -> Element | null`: the form field a label, aria-label, placeholder or name names.
pub const FIND_FIELD: &str = r#"(label) => {
  const want = String(label).trim().toLowerCase();
  const fields = [...document.querySelectorAll('input, select, textarea, [contenteditable=""], [contenteditable=true]')];
  const names = (e) => [
    ...[...(e.labels || [])].map((l) => l.innerText),
    e.getAttribute('aria-label'), e.getAttribute('placeholder'), e.getAttribute('name'), e.id,
  ].filter(Boolean).map((s) => s.trim().replace(/\s*\*$/, '').trim().toLowerCase());
  return fields.find((e) => names(e).includes(want)) || fields.find((e) => names(e).some((n) => n.includes(want))) || null;
}"#;

/// `(text) -> Element | null`: a clickable element whose visible text (or value, aria-label)
/// is `text`; exact matches first.
pub const FIND_BY_TEXT: &str = r#"(text) => {
  const want = String(text).trim().toLowerCase();
  const all = [...document.querySelectorAll('a, button, input[type=submit], input[type=button], input[type=reset], [role=button], [role=link], [role=tab], [role=menuitem], summary, label, [onclick]')];
  const seen = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const label = (e) => String(e.innerText || e.value || e.getAttribute('aria-label') || '').trim().toLowerCase();
  return all.find((e) => seen(e) && label(e) === want) || all.find((e) => seen(e) && label(e).includes(want)) || null;
}"#;

/// Called on an element with `(value, checked)`: sets a field the way a user would end up with
/// it (events fired), or says why it cannot.
pub const FILL: &str = r#"function (value, checked) {
  const el = this;
  const tag = el.tagName.toLowerCase();
  const type = String(el.type || '').toLowerCase();
  const what = tag + (el.name ? `[name=${el.name}]` : el.id ? `#${el.id}` : '');
  if (el.disabled) return { error: `${what} is disabled` };
  const fire = () => { el.dispatchEvent(new Event('input', { bubbles: true })); el.dispatchEvent(new Event('change', { bubbles: true })); };
  if (tag === 'select') {
    const wants = Array.isArray(value) ? value.map(String) : [String(value ?? '')];
    const norm = (s) => s.trim().toLowerCase();
    const opts = [...el.options];
    const pick = wants.map((w) => opts.find((o) => o.value === w) || opts.find((o) => norm(o.text) === norm(w)));
    const missing = wants.filter((w, i) => !pick[i]);
    if (missing.length) return { error: `${what} has no option ${JSON.stringify(missing[0])} (options: ${opts.map((o) => JSON.stringify(o.text.trim())).join(', ')})` };
    if (el.multiple) opts.forEach((o) => (o.selected = pick.includes(o))); else el.value = pick[0].value;
    fire();
    return { field: what, kind: 'select', value: el.multiple ? pick.map((o) => o.value) : el.value };
  }
  if (type === 'checkbox' || type === 'radio') {
    let want = checked;
    if (want === null || want === undefined) want = !['', 'false', 'no', 'off', '0'].includes(String(value ?? '').trim().toLowerCase());
    if (el.checked !== want) el.click();
    if (el.checked !== want) { el.checked = want; fire(); }
    return { field: what, kind: type, checked: el.checked };
  }
  if (type === 'file') return { error: `${what} is a file input; uploading files is not supported` };
  if (tag === 'input' || tag === 'textarea') {
    if (el.readOnly) return { error: `${what} is read-only` };
    const v = Array.isArray(value) ? value.join(',') : String(value ?? '');
    el.focus();
    const proto = tag === 'input' ? HTMLInputElement.prototype : HTMLTextAreaElement.prototype;
    Object.getOwnPropertyDescriptor(proto, 'value').set.call(el, v);
    fire();
    return { field: what, kind: type || tag, value: type === 'password' ? '••••' : el.value };
  }
  if (el.isContentEditable) {
    el.focus();
    el.textContent = String(value ?? '');
    el.dispatchEvent(new InputEvent('input', { bubbles: true }));
    return { field: what, kind: 'contenteditable' };
  }
  return { error: `${what} is not a form field` };
}"#;

/// Called on a form field: submits its form the way pressing its submit button would, or
/// says what stops it.
pub const SUBMIT: &str = r#"function () {
  const form = this.form || this.closest('form');
  if (!form) return { error: 'the field is not inside a form: name the submit button with submit_ref or submit_selector' };
  if (!form.checkValidity()) {
    const bad = [...form.elements].filter((e) => e.willValidate && !e.checkValidity()).map((e) => `${e.name || e.id || e.tagName.toLowerCase()}: ${e.validationMessage}`);
    return { error: `the form was not submitted, it is not valid: ${bad.join('; ')}` };
  }
  if (form.requestSubmit) form.requestSubmit(); else form.submit();
  return { submitted: true };
}"#;

/// Called on an element with `(x, y)`: null when a click at that point reaches it, else a
/// description of what covers it.
pub const HIT: &str = r#"function (x, y) {
  const e = document.elementFromPoint(x, y);
  if (!e || e === this || this.contains(e) || e.contains(this)) return null;
  return e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.trim().split(/\s+/).join('.') : '');
}"#;

/// Called on an element: its box in document coordinates.
pub const BOX: &str = r#"function () {
  this.scrollIntoView({ block: 'center', inline: 'center' });
  const r = this.getBoundingClientRect();
  return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
}"#;

/// `(rowSelector, fields) -> [[cell]]`: one row per element the row selector matches, one cell
/// per field (`{selector, attribute}`).
pub const SCRAPE: &str = r#"(rowSel, fields) => [...document.querySelectorAll(rowSel)].map((row) => fields.map((f) => {
  const el = f.selector ? row.querySelector(f.selector) : row;
  if (!el) return '';
  if (f.attribute) {
    if (['href', 'src', 'action'].includes(f.attribute) && typeof el[f.attribute] === 'string' && el[f.attribute]) return el[f.attribute];
    return el.getAttribute(f.attribute) ?? '';
  }
  return String(el.innerText ?? el.textContent ?? '').replace(/\s+/g, ' ').trim();
}))"#;

/// `(selector) -> {href} | null`: the "next" link of a listing.
pub const NEXT: &str = r#"(sel) => { const e = document.querySelector(sel); if (!e) return null; return { href: e.href ? String(e.href) : null }; }"#;

/// `() -> {url, title, status}`: where the page is.
pub const WHERE: &str = r#"(() => { const n = performance.getEntriesByType('navigation')[0]; return { url: location.href, title: document.title, status: n && n.responseStatus ? n.responseStatus : null }; })()"#;
