// /datasets: every dataset with its record count and source; upload a JSON, JSON Lines or CSV file (drag and drop,
// with a progress bar and the lines that could not be read), into a new dataset or an existing one.
import { ApiError, enc, get, post, session } from '../api.js';
import { fmt, field, h, liveStatus, menuButton, replace, setTitle, showFieldErrors, tableWrap, timeEl, uid } from '../dom.js';

const formats = { csv: 'csv', jsonl: 'jsonl', ndjson: 'jsonl', json: 'json' };

/** The "+" menu of a dataset: Send to destination (the seed's first step). */
export const plusMenu = (name) => menuButton('+', `Actions for dataset ${name}`, [
  { label: 'Send to destination', href: `/destinations/new?dataset=${enc(name)}` },
  { label: 'Open dataset', href: `/datasets/${enc(name)}` },
], 'plus');

/** The ingest key, shown once, with a curl example to copy. */
export function ingestKeyBox(dataset, key) {
  const url = new URL(dataset.ingestUrl ?? `/ingest/${dataset.name}`, location.origin).href;
  const curl = `curl -H "Authorization: Bearer ${key}" -H 'Content-Type: application/x-ndjson' \\\n     --data-binary @records.jsonl ${url}`;
  return h('div', { class: 'notice warn', role: 'region', 'aria-label': 'Ingest key' },
    h('p', null, h('strong', null, 'The ingest key of ', dataset.name, ' — shown only now.'), ' Keep it: Kiteflow stores only its hash.'),
    h('div', { class: 'secret' }, h('code', { class: 'ingest-key' }, key), copyKey(key, 'Copy key')),
    h('p', null, 'Send records from any HTTP client:'),
    h('pre', null, h('code', null, curl)),
    copyKey(curl, 'Copy curl example'));
}

function copyKey(text, label) {
  return h('button', { type: 'button', class: 'small', onclick: () => navigator.clipboard?.writeText(text) }, label);
}

/** Uploads a file with a progress bar (XMLHttpRequest: fetch reports no upload progress). */
export function upload(dataset, file, format, progress) {
  return new Promise((resolve, reject) => {
    session().then((s) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', `/api/v1/datasets/${enc(dataset)}/records?format=${format}`);
      xhr.setRequestHeader('X-CSRF-TOKEN', s.antiforgeryToken ?? '');
      xhr.setRequestHeader('content-type', format === 'csv' ? 'text/csv' : format === 'jsonl' ? 'application/x-ndjson' : 'application/json');
      xhr.setRequestHeader('accept', 'application/json');
      xhr.upload.addEventListener('progress', (e) => { if (e.lengthComputable) { progress.max = e.total; progress.value = e.loaded; } });
      xhr.addEventListener('load', () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch { body = { detail: xhr.responseText }; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new ApiError(xhr.status, body));
      });
      xhr.addEventListener('error', () => reject(new ApiError(0, { detail: 'The upload was interrupted; the records appended before that are kept.' })));
      xhr.send(file);
    }, reject);
  });
}

export default async function render(main) {
  const list = h('div', null, h('p', { class: 'loading' }, 'Loading…'));
  const uploadSection = uploadForm(() => load());
  replace(main, setTitle(main, 'Datasets'), uploadSection, h('h2', null, 'All datasets'), list);

  async function load() {
    const datasets = await get('/api/v1/datasets');
    uploadSection.setNames(datasets.map((d) => d.name));
    if (datasets.length === 0) { replace(list, h('p', { class: 'muted' }, 'No dataset yet: upload a file above.')); return; }
    replace(list, tableWrap(h('table', null,
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', { class: 'num' }, 'Records'), h('th', { class: 'num' }, 'Rejected'), h('th', null, 'Source'), h('th', null, 'Last append'), h('th', null, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', null, datasets.map((d) => h('tr', null,
        h('td', null, h('a', { href: `/datasets/${enc(d.name)}` }, d.name)),
        h('td', { class: 'num' }, fmt(d.records)),
        h('td', { class: 'num' }, fmt(d.rejected)),
        h('td', null, d.source),
        h('td', null, timeEl(d.lastAppendAt)),
        h('td', null, plusMenu(d.name)))))), 'Datasets'));
  }
  await load();
}

function uploadForm(onUploaded) {
  const listId = uid('names');
  const names = h('datalist', { id: listId });
  const name = h('input', { name: 'dataset', list: listId, autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. repos' });
  const file = h('input', { type: 'file', name: 'file', accept: '.json,.jsonl,.ndjson,.csv,application/json,text/csv' });
  const format = h('select', { name: 'format' },
    h('option', { value: '' }, 'From the file name'), h('option', { value: 'json' }, 'JSON (array or one object)'), h('option', { value: 'jsonl' }, 'JSON Lines'), h('option', { value: 'csv' }, 'CSV'));
  const nameField = field('Dataset', name, { key: 'name', hint: 'A new name creates the dataset; an existing one appends to it.' });
  const fileField = field('File', file, { key: 'file', hint: 'JSON, JSON Lines or CSV, any size: it is streamed.' });
  const formatField = field('Format', format, { key: 'format' });
  const drop = h('div', { class: 'drop' }, h('p', null, 'Drop a file here, or choose one below.'));
  const progress = h('progress', { value: 0, max: 1, hidden: true, 'aria-label': 'Upload progress' });
  const status = liveStatus();
  const result = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Upload');
  const form = h('form', { class: 'upload', novalidate: true, 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload records'), drop,
    h('div', { class: 'row' }, nameField, fileField, formatField),
    h('div', { class: 'inline-form' }, submit), progress, status, result);
  form.append(names);

  let dropped = null;
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    dropped = e.dataTransfer.files[0] ?? null;
    if (dropped) {
      replace(drop, h('p', null, 'Ready: ', h('strong', null, dropped.name), ` (${fmt(dropped.size)} bytes)`));
      if (!name.value) name.value = slug(dropped.name);
    }
  });
  file.addEventListener('change', () => {
    dropped = null;
    if (file.files[0] && !name.value) name.value = slug(file.files[0].name);
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const chosen = dropped ?? file.files[0];
    const local = {};
    if (!name.value.trim()) local.name = ['Name the dataset to upload into.'];
    if (!chosen) local.file = ['Choose a file, or drop one on the box above.'];
    showFieldErrors(form, local);
    if (Object.keys(local).length) { form.querySelector('[aria-invalid="true"]')?.focus(); return; }
    const target = name.value.trim();
    const fmtChosen = format.value || formats[chosen.name.split('.').pop().toLowerCase()] || 'json';
    submit.disabled = true;
    replace(result);
    try {
      const existing = [...names.options].some((o) => o.value === target);
      if (!existing) {
        const created = await post('/api/v1/datasets', { name: target });
        result.append(ingestKeyBox(created.dataset, created.ingestKey));
      }
      progress.hidden = false;
      progress.value = 0;
      status.textContent = `Uploading ${chosen.name}…`;
      const answer = await upload(target, chosen, fmtChosen, progress);
      progress.value = progress.max;
      status.textContent = `Appended ${fmt(answer.appended)} records to ${target} (now ${fmt(answer.records)}); ${fmt(answer.rejected)} could not be read.`;
      result.prepend(uploadResult(answer));
      await onUploaded();
    } catch (error) {
      if (error.status === 400) showFieldErrors(form, error.errors);
      status.textContent = '';
      result.prepend(h('p', { class: 'notice error', role: 'alert' }, error.message));
    } finally {
      submit.disabled = false;
    }
  });
  form.setNames = (all) => replace(names, all.map((n) => h('option', { value: n })));
  return form;
}

function slug(fileName) {
  return fileName.replace(/\.[^.]+$/, '').toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+/, '').slice(0, 64) || 'dataset';
}

/** What an upload did: counts, a link to the dataset and its "+" menu, and the rejected lines. */
export function uploadResult(answer) {
  return h('div', { class: answer.rejected ? 'notice warn' : 'notice ok' },
    h('p', null, `${fmt(answer.appended)} records appended to `, h('a', { href: `/datasets/${enc(answer.dataset)}` }, answer.dataset), ` from offset ${fmt(answer.firstOffset)}. `, answer.error ?? ''),
    answer.rejections?.length ? h('div', null,
      h('p', null, `${fmt(answer.rejected)} item(s) could not be read${answer.rejected > answer.rejections.length ? ` (the first ${answer.rejections.length})` : ''}:`),
      tableWrap(h('table', { class: 'rejections' },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Line'), h('th', null, 'Problem'))),
        h('tbody', null, answer.rejections.map((r) => h('tr', null, h('td', { class: 'num' }, fmt(r.line)), h('td', null, r.message))))), 'Rejected lines')) : null,
    h('p', null, plusMenu(answer.dataset), ' ', h('span', { class: 'muted' }, 'Next: + → Send to destination')));
}
