// /audit: the audit log, newest first, filtered by resource, paged with "Older entries".
import { get } from '../api.js';
import { field, h, jsonDetails, replace, setTitle, tableWrap, timeEl } from '../dom.js';

/** A table of audit entries (also used on a destination's page). */
export function auditTable(items, label = 'Audit log') {
  return tableWrap(h('table', { class: 'audit' },
    h('thead', null, h('tr', null, h('th', null, 'When'), h('th', null, 'Who'), h('th', null, 'What'), h('th', null, 'Resource'), h('th', null, 'Details'))),
    h('tbody', null, items.map((e) => h('tr', null,
      h('td', null, timeEl(e.at)), h('td', null, e.actor), h('td', null, h('code', null, e.action)),
      h('td', null, e.resourceName ? `${e.resourceType} ${e.resourceName}` : e.resourceType),
      h('td', null, e.details ? jsonDetails(e.details) : '—'))))), label);
}

export default async function render(main) {
  const params = new URLSearchParams(location.search);
  const type = h('select', { name: 'resourceType' },
    ['', 'destination', 'dataset', 'credential', 'session', 'api-key', 'user'].map((t) => h('option', { value: t, selected: t === (params.get('resourceType') ?? '') }, t || 'Any')));
  const name = h('input', { name: 'resourceName', value: params.get('resourceName') ?? '', autocomplete: 'off', spellcheck: 'false' });
  const form = h('form', { class: 'inline-form', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Resource type', type), field('Resource name', name), h('button', { type: 'submit' }, 'Filter'));
  const body = h('div');
  const more = h('button', { type: 'button', hidden: true }, 'Older entries');
  replace(main, setTitle(main, 'Audit log'), form, body, h('div', { class: 'pager' }, more));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    if (type.value) q.set('resourceType', type.value);
    if (name.value.trim()) q.set('resourceName', name.value.trim());
    history.replaceState(null, '', `/audit${q.size ? '?' + q : ''}`);
    load(null, true);
  });
  let items = [];
  async function load(before, reset) {
    const q = new URLSearchParams({ limit: '50' });
    if (type.value) q.set('resourceType', type.value);
    if (name.value.trim()) q.set('resourceName', name.value.trim());
    if (before) q.set('before', before);
    const page = await get(`/api/v1/audit?${q}`);
    items = reset ? page.items : items.concat(page.items);
    replace(body, items.length ? auditTable(items) : h('p', { class: 'muted' }, 'No entries.'));
    more.hidden = page.next === null;
    more.onclick = () => load(page.next, false);
  }
  await load(null, true);
}

