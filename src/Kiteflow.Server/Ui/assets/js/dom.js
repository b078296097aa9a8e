// Small DOM helpers shared by every page: element building, numbers and times, menus, dialogs, field errors.

/** Builds an element: h('a', {href, class, onclick}, 'text', child, [more]). Null, false and undefined children are skipped. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
      else if (key === 'class') el.className = value;
      else if (key === 'for') el.htmlFor = value;
      else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (key === 'value' && 'value' in el) el.value = value;
      else if (key === 'checked' || key === 'selected' || key === 'disabled' || key === 'hidden' || key === 'open' || key === 'multiple' || key === 'required') el[key] = !!value;
      else if (key === 'text') el.textContent = value;
      else el.setAttribute(key, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : String(child));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
/** A unique id for label / aria wiring. */
export const uid = (prefix = 'k') => `${prefix}-${++ids}`;

const numbers = new Intl.NumberFormat('en');
export const fmt = (n) => (n === null || n === undefined ? '—' : numbers.format(n));
export const fmtRate = (n) => (n === null || n === undefined ? '—' : `${n < 10 ? n.toFixed(1) : numbers.format(Math.round(n))}/s`);
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  return d.toLocaleString('en-GB', { year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
}
export const timeEl = (iso) => (iso ? h('time', { datetime: iso }, fmtTime(iso)) : '—');

/** Pretty JSON text of a value. */
export const pretty = (value) => JSON.stringify(value, null, 2);

/** A <details> showing a JSON value: a one-line preview as its summary, the whole value when opened. */
export function jsonDetails(value, label) {
  const line = JSON.stringify(value) ?? 'null';
  return h('details', { class: 'json' },
    h('summary', null, label ? h('span', { class: 'muted' }, label, ' ') : null, h('code', null, line.length > 120 ? line.slice(0, 117) + '…' : line)),
    h('pre', { tabindex: '0' }, h('code', null, pretty(value))));
}

/** Shows a short message in the polite live region at the bottom of the page. */
export function toast(message, kind = 'info') {
  const box = document.getElementById('toasts');
  const item = h('p', { class: `toast ${kind}` }, message);
  box.append(item);
  setTimeout(() => item.remove(), 6000);
}

/** A button that copies text to the clipboard (falls back to selecting it). */
export function copyButton(text, label = 'Copy') {
  return h('button', {
    type: 'button', class: 'quiet small',
    onclick: async (e) => {
      try { await navigator.clipboard.writeText(typeof text === 'function' ? text() : text); toast('Copied.'); }
      catch { toast('Copying is not allowed here: select the text and copy it.', 'error'); }
      e.currentTarget.focus();
    },
  }, label);
}

/**
 * A menu button (WAI-ARIA menu pattern): Enter, Space or ArrowDown open it and focus the first item; arrows move;
 * Escape closes it and returns focus. items: [{label, href} | {label, onSelect, disabled}].
 */
export function menuButton(label, ariaLabel, items, extraClass = '') {
  const menuId = uid('menu');
  const button = h('button', { type: 'button', class: `menu-button ${extraClass}`, 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-controls': menuId, 'aria-label': ariaLabel }, label);
  const list = h('ul', { id: menuId, role: 'menu', class: 'menu', hidden: true, 'aria-label': ariaLabel });
  const entries = [];
  for (const item of items) {
    if (!item) continue;
    const el = item.href
      ? h('a', { role: 'menuitem', href: item.href, tabindex: '-1', download: item.download ?? null }, item.label)
      : h('button', { type: 'button', role: 'menuitem', tabindex: '-1', disabled: item.disabled }, item.label);
    if (item.onSelect) el.addEventListener('click', () => { close(false); item.onSelect(); });
    entries.push(el);
    list.append(h('li', { role: 'none' }, el));
  }
  const focusable = () => entries.filter((e) => !e.disabled);
  function open(focusLast = false) {
    list.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    const f = focusable();
    (focusLast ? f[f.length - 1] : f[0])?.focus();
    document.addEventListener('pointerdown', outside, true);
  }
  function close(returnFocus = true) {
    list.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', outside, true);
    if (returnFocus) button.focus();
  }
  function outside(e) { if (!wrap.contains(e.target)) close(false); }
  button.addEventListener('click', () => (list.hidden ? open() : close()));
  button.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') { e.preventDefault(); open(); }
    if (e.key === 'ArrowUp') { e.preventDefault(); open(true); }
  });
  list.addEventListener('keydown', (e) => {
    const f = focusable();
    const i = f.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') { e.preventDefault(); f[(i + 1) % f.length].focus(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); f[(i - 1 + f.length) % f.length].focus(); }
    else if (e.key === 'Home') { e.preventDefault(); f[0].focus(); }
    else if (e.key === 'End') { e.preventDefault(); f[f.length - 1].focus(); }
    else if (e.key === 'Escape') { e.preventDefault(); close(); }
    else if (e.key === 'Tab') close(false);
  });
  const wrap = h('div', { class: 'menu-wrap' }, button, list);
  return wrap;
}

/**
 * A modal dialog (native <dialog>: focus is trapped, Escape cancels). Resolves with the value of the button pressed,
 * or null when cancelled. actions: [{label, value, primary, danger}].
 */
export function dialog(title, body, actions) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const form = h('form', { method: 'dialog' },
      h('h2', { id: titleId }, title),
      h('div', { class: 'dialog-body' }, body),
      h('div', { class: 'actions' }, actions.map((a) => h('button', { value: a.value, class: a.primary ? 'primary' : a.danger ? 'danger' : '' }, a.label))));
    const dlg = h('dialog', { 'aria-labelledby': titleId }, form);
    const opener = document.activeElement;
    dlg.addEventListener('close', () => {
      const value = dlg.returnValue && dlg.returnValue !== 'cancel' ? dlg.returnValue : null;
      dlg.remove();
      opener?.focus?.();
      resolve(value);
    });
    document.body.append(dlg);
    dlg.showModal();
    const first = dlg.querySelector('input, select, textarea, button.primary');
    first?.focus();
  });
}

/** A labelled form control with its hint and an error slot: the error names the field and is tied by aria-describedby. */
export function field(label, control, { hint, key, wide } = {}) {
  const id = control.id || (control.id = uid('f'));
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const described = [hintEl?.id, errorEl.id].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  const wrap = h('div', { class: `field${wide ? ' wide' : ''}`, dataset: key ? { field: key } : undefined },
    h('label', { for: id }, label), control, hintEl, errorEl);
  wrap.control = control;
  wrap.label = label;
  return wrap;
}

/** Shows (or clears) a field's errors: the text names the field; the control is marked invalid. */
export function setFieldError(wrap, messages) {
  const error = wrap.querySelector(':scope > .field-error, :scope > legend + .field-error, :scope .field-error');
  const control = wrap.control ?? wrap.querySelector('input, select, textarea, [contenteditable]');
  if (!messages || messages.length === 0) {
    if (error) { error.hidden = true; error.textContent = ''; }
    control?.removeAttribute('aria-invalid');
    return;
  }
  if (error) { error.hidden = false; error.textContent = `${wrap.label ?? 'This field'}: ${messages.join(' ')}`; }
  control?.setAttribute('aria-invalid', 'true');
}

/**
 * Puts each error next to its field: the field whose data-field is the longest prefix of the error's key
 * (settings.batching.otherProps.x → settings.batching.otherProps). Returns the errors no field took.
 */
export function showFieldErrors(root, errors, include = () => true) {
  const fields = [...root.querySelectorAll('[data-field]')];
  const byField = new Map(fields.map((f) => [f, []]));
  const rest = {};
  for (const [key, messages] of Object.entries(errors ?? {})) {
    let best = null;
    for (const f of fields) {
      const k = f.dataset.field;
      if ((key === k || key.startsWith(k + '.') || key.startsWith(k + '[')) && (!best || k.length > best.dataset.field.length) && !f.closest('[hidden]')) best = f;
    }
    if (best) byField.get(best).push(...messages);
    else rest[key] = messages;
  }
  for (const [f, messages] of byField) setFieldError(f, include(f.dataset.field) ? messages : null);
  return rest;
}

/** Clears a page section and shows a problem from the API in it. */
export function problemText(error) {
  if (!error) return 'Something went wrong.';
  const p = error.problem;
  if (p?.errors) return Object.entries(p.errors).map(([k, v]) => `${k}: ${v.join(' ')}`).join(' ');
  return p?.detail || p?.title || error.message || 'Something went wrong.';
}

/** A status line whose text screen readers announce. */
export const liveStatus = (cls = 'status') => h('p', { class: cls, role: 'status', 'aria-live': 'polite' });

/** Wraps a table so it scrolls sideways on a narrow screen instead of widening the page. */
export const tableWrap = (table, label) => h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': label }, table);

export function setTitle(main, title, ...extra) {
  document.title = `${title} · Kiteflow`;
  const h1 = h('h1', null, title);
  return h('div', { class: 'page-head' }, h1, extra.length ? h('div', { class: 'page-actions' }, extra) : null);
}
