// /datasets/{name}: its records (paged, each expandable), its schema, its ingest URL and key, the items that could
// not be read, and the "+" menu that starts a destination.
import { del, enc, get, post } from '../api.js';
import { dialog, fmt, h, jsonDetails, replace, setTitle, tableWrap, timeEl, toast } from '../dom.js';
import { ingestKeyBox, plusMenu } from './datasets.js';

const PAGE = 50;

export default async function render(main) {
  const name = decodeURIComponent(location.pathname.split('/')[2]);
  const dataset = await get(`/api/v1/datasets/${enc(name)}`);
  const keyArea = h('div');
  const rotate = h('button', { type: 'button', onclick: async () => {
    const ok = await dialog('Replace the ingest key?', h('p', null, 'The current key stops working at once; clients that use it must be given the new one.'), [{ label: 'Cancel', value: 'cancel' }, { label: 'Replace the key', value: 'yes', danger: true }]);
    if (!ok) return;
    const created = await post(`/api/v1/datasets/${enc(name)}/ingest-key`, {});
    replace(keyArea, ingestKeyBox({ ...dataset, name }, created.ingestKey));
    keyArea.querySelector('code')?.scrollIntoView({ block: 'nearest' });
  } }, 'New ingest key');
  const remove = h('button', { type: 'button', class: 'danger', onclick: async () => {
    const ok = await dialog(`Delete ${name}?`, h('p', null, `Its ${fmt(dataset.records)} records are deleted too. A dataset a destination reads cannot be deleted.`), [{ label: 'Cancel', value: 'cancel' }, { label: 'Delete', value: 'yes', danger: true }]);
    if (!ok) return;
    try { await del(`/api/v1/datasets/${enc(name)}`); location.assign('/datasets'); } catch (e) { toast(e.message, 'error'); }
  } }, 'Delete');

  const records = h('div');
  const schema = h('div');
  const rejections = h('div');
  replace(main,
    setTitle(main, name, plusMenu(name), h('a', { class: 'button', href: `/api/v1/datasets/${enc(name)}/export?format=jsonl`, download: `${name}.jsonl` }, 'Export JSON Lines'),
      h('a', { class: 'button', href: `/api/v1/datasets/${enc(name)}/export?format=csv`, download: `${name}.csv` }, 'Export CSV'), remove),
    h('dl', { class: 'cards' },
      card('Records', fmt(dataset.records)), card('Not readable', fmt(dataset.rejected)), card('Source', dataset.source),
      card('Created', timeEl(dataset.createdAt)), card('Last append', timeEl(dataset.lastAppendAt))),
    h('section', { 'aria-labelledby': 'ingest-title' },
      h('h2', { id: 'ingest-title' }, 'Ingest'),
      h('dl', { class: 'kv' },
        h('dt', null, 'URL'), h('dd', null, h('code', null, new URL(dataset.ingestUrl, location.origin).href)),
        h('dt', null, 'Key'), h('dd', null, h('code', null, `${dataset.ingestKeyPrefix}…`), ' ', h('span', { class: 'muted' }, '(only its start is kept; a new key is shown once)')),
        h('dt', null, 'Signature'), h('dd', null, dataset.requireSignature ? 'required (X-Kiteflow-Signature)' : 'optional')),
      rotate, keyArea),
    h('section', { 'aria-labelledby': 'schema-title' }, h('h2', { id: 'schema-title' }, 'Schema'), schema),
    h('section', { 'aria-labelledby': 'records-title' }, h('h2', { id: 'records-title' }, 'Records'), records),
    h('section', { 'aria-labelledby': 'rej-title' }, h('h2', { id: 'rej-title' }, 'Items that could not be read'), rejections));

  await Promise.all([showSchema(name, schema), showRecords(name, records, 0), showRejections(name, rejections)]);
}

const card = (label, value) => h('div', { class: 'card' }, h('dt', null, label), h('dd', null, value));

async function showSchema(name, target) {
  const s = await get(`/api/v1/datasets/${enc(name)}/schema`);
  if (!s.attributes.length) { replace(target, h('p', { class: 'muted' }, 'No records yet.')); return; }
  replace(target, tableWrap(h('table', null,
    h('thead', null, h('tr', null, h('th', null, 'Attribute path'), h('th', null, 'Types'), h('th', { class: 'num' }, 'Records'), h('th', { class: 'num' }, 'Share'))),
    h('tbody', null, s.attributes.map((a) => h('tr', null,
      h('td', null, h('code', null, a.path)), h('td', null, a.types.join(', ')), h('td', { class: 'num' }, fmt(a.records)),
      h('td', { class: 'num' }, s.records ? `${Math.round((a.records / s.records) * 100)}%` : '—'))))), 'Schema'));
}

async function showRecords(name, target, from) {
  const page = await get(`/api/v1/datasets/${enc(name)}/records?from=${from}&limit=${PAGE}`);
  const prev = h('button', { type: 'button', disabled: from === 0, onclick: () => showRecords(name, target, Math.max(0, from - PAGE)).then(() => target.querySelector('button')?.focus()) }, 'Previous');
  const next = h('button', { type: 'button', disabled: page.next === null, onclick: () => showRecords(name, target, page.next).then(() => target.querySelector('.pager button:last-of-type')?.focus()) }, 'Next');
  const last = page.records.length ? page.records[page.records.length - 1].offset : from;
  replace(target,
    h('div', { class: 'pager' }, prev, next, h('span', { class: 'muted', role: 'status' }, page.records.length ? `Records ${fmt(from)}–${fmt(last)} of ${fmt(page.recordCount)}` : 'No records.')),
    h('ol', { class: 'records plain', start: from }, page.records.map((r) => h('li', null, jsonDetails(r.record, `#${r.offset}`)))));
}

async function showRejections(name, target) {
  const page = await get(`/api/v1/datasets/${enc(name)}/rejections?limit=100`);
  if (!page.items.length) { replace(target, h('p', { class: 'muted' }, 'None: every item was read.')); return; }
  replace(target, tableWrap(h('table', null,
    h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Line'), h('th', null, 'Problem'), h('th', null, 'From'), h('th', null, 'When'))),
    h('tbody', null, page.items.map((r) => h('tr', null, h('td', { class: 'num' }, fmt(r.line)), h('td', null, r.message), h('td', null, r.origin), h('td', null, timeEl(r.at)))))), 'Items that could not be read'));
}
