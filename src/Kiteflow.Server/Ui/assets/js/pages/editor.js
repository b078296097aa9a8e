// /destinations/new and /destinations/{name}/edit: the seed's flow. Connector and credential, Next; then Method,
// Content Format, URL (with the common endpoints and "{" macro help), Request Headers, Exclude Attributes, the body
// template, Record Batching, the Response Webhook — and beside them the Sample Payload panel, planned by the server
// for the current settings on every change (debounced; an older answer never replaces a newer one). Test sends one
// sample (its body editable in place), after the caution unless the credential is the sandbox. Done saves a draft;
// every problem is shown next to its field and nothing is saved. The server holds every rule: this page only asks.
import { enc, get, post, put } from '../api.js';
import { dialog, field, fmt, h, liveStatus, pretty, replace, setFieldError, setTitle, showFieldErrors, tableWrap, uid } from '../dom.js';
import { checkCredential, credentialForm } from './credentials.js';

const METHOD_HINTS = {
  POST: 'POST: for triggering new builds, creating pipelines, or creating new resources.',
  PUT: 'PUT: for fully replacing existing pipeline configurations or resource settings.',
  PATCH: 'PATCH: for partially updating pipeline configurations, settings, or other resources.',
  DELETE: 'DELETE: for removing pipelines, agents, or other resources.',
};
const FORMATS = [['json', 'JSON'], ['ndjson', 'NDJSON (JSON Lines)'], ['xml', 'XML'], ['form', 'Form (URL-encoded)'], ['csv', 'CSV']];
const ALGORITHMS = [['json-array', 'JSON array'], ['property', 'Property inside JSON object'], ['code', 'Code']];
const DEFAULT_CODE = '// Returns the body of one batched request.\nfunction batch(records, context) {\n  return { builds: records };\n}\n';
const DEFAULT_TEMPLATE = '{\n  "commit": "{commit}",\n  "branch": "{branch}",\n  "message": "{message}"\n}\n';
const CAUTION = 'Sending a test payload to write endpoints (such as triggering a build) will create real resources in your Buildkite organization. Review the sample payload carefully before sending, and consider using a non-production pipeline or organization for initial testing.';
const DEBOUNCE_MS = 40;
const SAMPLES = 5;

let editorModule = null;
const loadEditor = () => (editorModule ??= import('../../vendor/codemirror.js'));
// The nonce the page's Content-Security-Policy admits the code editor's generated <style> with.
const styleNonce = () => document.querySelector('meta[name="kiteflow-style-nonce"]')?.content;

export default async function render(main) {
  const parts = location.pathname.split('/');
  const editing = parts[3] === 'edit';
  const params = new URLSearchParams(location.search);
  const [credentials, catalog, datasets, existing] = await Promise.all([
    get('/api/v1/credentials'), get('/api/v1/catalog/endpoints'), get('/api/v1/datasets'),
    editing ? get(`/api/v1/destinations/${enc(decodeURIComponent(parts[2]))}`) : null,
  ]);
  const base = existing ? structuredClone(existing.settings) : {};
  const state = {
    dataset: existing?.dataset ?? params.get('dataset') ?? '',
    credential: existing?.credential ?? (credentials.find((c) => c.kind === 'sandbox')?.name ?? credentials[0]?.name ?? ''),
    attributes: [],
    touched: new Set(),
    submitted: false,
    doc: null,
    previewErrors: {},
    testMode: false,
    edits: new Map(),
    open: new Set(),
  };

  // ---- Step 1: connector and credential ----------------------------------------------------------------------
  const datasetSelect = h('select', { name: 'dataset' }, h('option', { value: '' }, 'Choose a dataset…'),
    datasets.map((d) => h('option', { value: d.name, selected: d.name === state.dataset }, `${d.name} (${fmt(d.records)} records)`)));
  const datasetField = field('Dataset', datasetSelect, { key: 'dataset', hint: 'The records this destination sends.' });
  const credentialSelect = h('select', { name: 'credential' });
  const fillCredentials = (list) => replace(credentialSelect, list.map((c) => h('option', { value: c.name, selected: c.name === state.credential }, `${c.name} (${c.kind}, ${c.apiBase})`)));
  fillCredentials(credentials);
  const credentialField = field('Credential', credentialSelect, { key: 'credential', hint: 'The Buildkite API token the calls are made with. The sandbox credential points at the emulator the server runs.' });
  const checkArea = h('div');
  const inlineCredential = h('div', { hidden: true });
  inlineCredential.append(credentialForm(async (created) => {
    credentials.push(created);
    state.credential = created.name;
    fillCredentials(credentials);
    inlineCredential.hidden = true;
    createToggle.setAttribute('aria-expanded', 'false');
    credentialSelect.focus();
    changed();
  }, { inline: true }));
  const createToggle = h('button', { type: 'button', 'aria-expanded': 'false', onclick: () => {
    inlineCredential.hidden = !inlineCredential.hidden;
    createToggle.setAttribute('aria-expanded', String(!inlineCredential.hidden));
    if (!inlineCredential.hidden) inlineCredential.querySelector('input')?.focus();
  } }, 'Create a credential');
  const checkButton = h('button', { type: 'button', onclick: () => credentialSelect.value && checkCredential(credentialSelect.value, checkArea) }, 'Check');
  const nextButton = h('button', { type: 'button', class: 'primary', hidden: editing }, 'Next');
  const step1 = h('section', { class: 'step', 'aria-labelledby': 'step1-title' },
    h('h2', { id: 'step1-title' }, h('span', { class: 'n', 'aria-hidden': 'true' }, '1'), 'Connector and credential'),
    editing ? h('p', null, 'Dataset: ', h('a', { href: `/datasets/${enc(state.dataset)}` }, state.dataset)) : datasetField,
    h('fieldset', null, h('legend', null, 'Connector'),
      h('div', { class: 'check' }, h('input', { type: 'radio', id: 'connector-buildkite', name: 'connector', value: 'buildkite', checked: true }), h('label', { for: 'connector-buildkite' }, 'Buildkite')),
      h('p', { class: 'hint' }, 'Sends records to any Buildkite REST API endpoint: trigger builds, create or update pipelines, annotate builds…')),
    credentialField,
    h('div', { class: 'inline-form' }, checkButton, createToggle, nextButton),
    inlineCredential, checkArea);

  // ---- Step 2: the request ---------------------------------------------------------------------------------
  const nameInput = h('input', { name: 'name', autocomplete: 'off', spellcheck: 'false', value: state.dataset ? `${state.dataset}-to-buildkite` : '' });
  const nameField = field('Destination name', nameInput, { key: 'name', hint: 'Lower-case letters, digits, - and _.' });
  const method = h('select', { name: 'method' }, ['POST', 'PUT', 'PATCH', 'DELETE'].map((m) => h('option', { value: m, selected: (base.method ?? 'POST') === m }, m)));
  const methodField = field('Method', method, { key: 'settings.method', hint: METHOD_HINTS[method.value] });
  const format = h('select', { name: 'contentFormat' }, FORMATS.map(([v, label]) => h('option', { value: v, selected: (base.contentFormat ?? 'json') === v }, label)));
  const formatWarning = h('p', { class: 'notice warn', hidden: true, role: 'status' });
  const formatField = field('Content Format', format, { key: 'settings.contentFormat', hint: 'The Buildkite REST API accepts and returns JSON: select JSON.' });
  formatField.append(formatWarning);

  const url = h('input', { name: 'url', autocomplete: 'off', spellcheck: 'false', inputmode: 'url', value: base.url ?? '', placeholder: 'https://api.buildkite.com/v2/organizations/{org}/pipelines/{pipeline}/builds' });
  const urlField = field('URL', url, { key: 'settings.url', hint: 'Type { for the dataset\'s attributes: {path}, {path=default}, {now}. Values are encoded for where they stand.' });
  const matched = h('p', { class: 'matched', role: 'status', 'aria-live': 'polite' });
  urlField.append(matched);
  const common = h('select', { name: 'endpoint' }, h('option', { value: '' }, 'Pick an endpoint to fill in the URL…'),
    h('optgroup', { label: 'Common Buildkite write endpoints' }, catalog.filter((e) => e.common !== null).map((e) => h('option', { value: e.id }, `${e.summary} — ${e.methods[0]}`))),
    h('optgroup', { label: 'Every endpoint Kiteflow knows' }, catalog.filter((e) => e.common === null && e.methods.some((m) => m !== 'GET')).map((e) => h('option', { value: e.id }, `${e.summary} — ${e.methods[0]}`))));
  const commonField = field('Common endpoints', common, { hint: 'Replace {org} with your organization slug, or with the attribute that holds it.' });

  const headers = h('input', { name: 'headers', autocomplete: 'off', spellcheck: 'false', value: base.headers ?? '', placeholder: 'X-Team:platform,X-Trace:{id}' });
  const headersField = field('Request Headers', headers, { key: 'settings.headers', hint: 'Optional: header1:value1,header2:value2 (quote a value holding a comma). Authorization comes from the credential and Content-Type from the Content Format: Kiteflow manages both.' });

  const excluded = [...(base.excludeAttributes ?? [])];
  const excludeSelect = h('select', { name: 'exclude' });
  const chips = h('ul', { class: 'chips', 'aria-label': 'Excluded attributes' });
  const excludeField = field('Exclude Attributes', excludeSelect, { key: 'settings.excludeAttributes', hint: 'Optional: attributes left out of the body, e.g. the ones that only serve the URL.' });
  excludeField.append(chips);

  const templateOn = h('input', { type: 'checkbox', id: uid('tpl'), checked: base.bodyTemplate !== undefined });
  const templateHost = h('div', { class: 'cm-host' });
  const templateWrap = cmField('Body template (JSON)', templateHost, 'settings.bodyTemplate', 'Each record\'s body is this JSON with its macros filled; type { for the attributes. A string that is exactly one macro keeps the attribute\'s type.');
  templateWrap.hidden = !templateOn.checked;

  const b = base.batching ?? {};
  const batchOn = h('input', { type: 'checkbox', id: uid('batch'), checked: !!b.enabled });
  const batchSize = h('input', { name: 'batchSize', type: 'number', min: '1', max: '10000', step: '1', inputmode: 'numeric', value: b.batchSize ?? 100 });
  const algorithm = h('select', { name: 'algorithm' }, ALGORITHMS.map(([v, label]) => h('option', { value: v, selected: (b.algorithm ?? 'json-array') === v }, label)));
  const propertyName = h('input', { name: 'propertyName', autocomplete: 'off', spellcheck: 'false', value: b.propertyName ?? '', placeholder: 'builds' });
  const otherProps = h('textarea', { name: 'otherProps', rows: '4', spellcheck: 'false', placeholder: '{"source": "kiteflow"}' });
  otherProps.value = b.otherProps !== undefined ? pretty(b.otherProps) : '';
  const codeHost = h('div', { class: 'cm-host' });
  const propertyBox = h('div', null,
    field('Property Name', propertyName, { key: 'settings.batching.propertyName', hint: 'The JSON property that holds the batched records, e.g. builds.' }),
    field('Other Props', otherProps, { key: 'settings.batching.otherProps', hint: 'Optional: other properties of the body, as a JSON object.' }));
  const codeWrap = cmField('Code', codeHost, 'settings.batching.code', 'JavaScript: function batch(records, context) returns the body. context has destination, url and batchIndex.');
  const batchBox = h('div', null,
    h('div', { class: 'row' },
      field('Batch Size', batchSize, { key: 'settings.batching.batchSize', hint: 'The most records in one call. Default 100.' }),
      field('Grouping Algorithm', algorithm, { key: 'settings.batching.algorithm' })),
    propertyBox, codeWrap);
  const batchWarning = h('p', { class: 'notice warn', hidden: true, role: 'status' });
  const batching = h('fieldset', { dataset: { field: 'settings.batching' } }, h('legend', null, 'Record Batching', h('span', { class: 'optional' }, 'optional')),
    h('div', { class: 'check' }, batchOn, h('label', { for: batchOn.id }, 'Would you like to batch your records together?')),
    h('p', { class: 'field-error', hidden: true }), batchBox, batchWarning);

  const w = base.responseWebhook ?? {};
  const webhookOn = h('input', { type: 'checkbox', id: uid('wh'), checked: !!w.enabled });
  const forwardUrl = h('input', { name: 'forwardUrl', type: 'url', autocomplete: 'off', spellcheck: 'false', value: w.forwardUrl ?? '', placeholder: 'https://hooks.example.com/buildkite' });
  const responseName = h('p', { class: 'hint', role: 'status' });
  const webhookBox = h('div', null, responseName, field('Forward URL', forwardUrl, { key: 'settings.responseWebhook.forwardUrl', hint: 'Optional: also POST each response record there (https, or http on loopback).' }));
  const webhook = h('fieldset', { dataset: { field: 'settings.responseWebhook' } }, h('legend', null, 'Response Webhook', h('span', { class: 'optional' }, 'optional')),
    h('div', { class: 'check' }, webhookOn, h('label', { for: webhookOn.id }, 'Would you like to process the API response as a webhook source?')),
    h('p', { class: 'field-error', hidden: true }),
    h('p', { class: 'hint' }, 'Every call\'s response (status, headers, body: the build number, state and web URL of a triggered build…) becomes a record of a new dataset, which can feed another destination.'),
    webhookBox);

  const summary = h('div', { tabindex: '-1' });
  const form = h('form', { class: 'settings', novalidate: true, 'aria-labelledby': 'step2-title' },
    h('h2', { id: 'step2-title' }, h('span', { class: 'n', 'aria-hidden': 'true' }, '2'), 'The request'),
    summary,
    editing ? null : nameField,
    methodField, formatField,
    h('h3', null, 'API Endpoint URL'), commonField, urlField, headersField, excludeField,
    h('div', { class: 'check' }, templateOn, h('label', { for: templateOn.id }, 'Shape each body with a template')), templateWrap,
    batching, webhook);
  form.addEventListener('submit', (e) => e.preventDefault());
  const step2 = h('section', { class: 'step', hidden: !editing }, form);

  // ---- The Sample Payload panel ------------------------------------------------------------------------------
  const testToggle = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Test');
  const panelStatus = liveStatus('status');
  const panelCaution = h('div', { class: 'caution', hidden: true }, h('strong', null, 'Test Payload Caution. '), CAUTION);
  const panelWarnings = h('div');
  const samples = h('div', { class: 'samples' });
  const panelRejected = h('div');
  const panel = h('aside', { class: 'panel', 'aria-labelledby': 'panel-title', hidden: !editing, id: 'sample-panel' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'panel-title' }, 'Sample Payload'), testToggle),
    panelStatus, panelCaution, panelWarnings, samples, panelRejected);

  const done = h('button', { type: 'button', class: 'primary', disabled: !editing }, 'Done');
  const cancel = h('a', { class: 'button', href: editing ? `/destinations/${enc(existing.name)}` : (state.dataset ? `/datasets/${enc(state.dataset)}` : '/destinations') }, 'Cancel');
  const title = editing ? `Edit ${existing.name}` : 'New destination';
  const activeNotice = existing?.state === 'active'
    ? h('p', { class: 'notice warn', role: 'status' }, `${existing.name} is active: pause it on its page before saving changes.`) : null;
  replace(main, setTitle(main, title, cancel, done), activeNotice,
    h('p', { class: 'muted' }, state.dataset && !editing ? ['Send ', h('strong', null, state.dataset), ' to Buildkite.'] : null),
    h('div', { class: 'editor' }, h('div', null, step1, step2), panel));

  // ---- Behaviour -----------------------------------------------------------------------------------------------
  let codeEditor = null;
  let templateEditor = null;

  async function ensureEditors() {
    if (templateOn.checked && !templateEditor) {
      const { createEditor } = await loadEditor();
      templateEditor = createEditor(templateHost, {
        language: 'json', label: 'Body template (JSON)', nonce: styleNonce(), doc: base.bodyTemplate !== undefined ? pretty(base.bodyTemplate) + '\n' : DEFAULT_TEMPLATE,
        completions: macroOptions, onChange: () => { state.touched.add('settings.bodyTemplate'); changed(); },
      });
      templateWrap.control = templateHost;
      changed();
    }
    if (batchOn.checked && algorithm.value === 'code' && !codeEditor) {
      const { createEditor } = await loadEditor();
      codeEditor = createEditor(codeHost, {
        language: 'javascript', label: 'Code', nonce: styleNonce(), doc: b.code ?? DEFAULT_CODE,
        onChange: () => { state.touched.add('settings.batching.code'); changed(); },
      });
      codeWrap.control = codeHost;
      changed();
    }
  }

  function macroOptions() {
    return state.attributes.map((a) => ({ label: a.path, detail: a.types.join('|') }))
      .concat([{ label: 'now', detail: 'the date' }, { label: 'now-1', detail: 'a day ago' }]);
  }

  function showBatching() {
    batchBox.hidden = !batchOn.checked;
    propertyBox.hidden = algorithm.value !== 'property';
    codeWrap.hidden = algorithm.value !== 'code';
  }

  function drawExcluded() {
    replace(excludeSelect, h('option', { value: '' }, excluded.length ? `Add another attribute (${excluded.length} excluded)…` : 'Choose attributes to exclude…'),
      state.attributes.filter((a) => !excluded.includes(a.path)).map((a) => h('option', { value: a.path }, a.path)));
    replace(chips, excluded.map((path) => h('li', { class: 'chip' }, path,
      h('button', { type: 'button', 'aria-label': `Remove ${path}`, title: `Remove ${path}`, onclick: () => {
        excluded.splice(excluded.indexOf(path), 1);
        drawExcluded();
        state.touched.add('settings.excludeAttributes');
        changed();
        (chips.querySelector('button') ?? excludeSelect).focus();
      } }, '✕'))));
  }

  async function loadSchema() {
    if (!state.dataset) { state.attributes = []; drawExcluded(); return; }
    const s = await get(`/api/v1/datasets/${enc(state.dataset)}/schema`);
    state.attributes = s.attributes;
    drawExcluded();
  }

  let namedFor = null;
  async function showResponseName() {
    webhookBox.hidden = !webhookOn.checked;
    const name = editing ? existing.name : nameInput.value.trim();
    if (!webhookOn.checked || name === namedFor) return;
    namedFor = name;
    if (!name) { responseName.textContent = 'Name the destination to see its response dataset.'; return; }
    try {
      const named = await get(`/api/v1/catalog/response-dataset?destination=${enc(name)}`);
      if (namedFor === name) responseName.textContent = `Responses go to the dataset ${named.dataset}, created when the destination is activated.`;
    } catch { responseName.textContent = ''; }
  }

  /** The settings the form says, and the problems only this page can see (text that is not JSON at all). */
  function currentSettings() {
    const s = structuredClone(base);
    const local = {};
    s.method = method.value;
    s.contentFormat = format.value;
    s.url = url.value;
    if (headers.value.trim()) s.headers = headers.value; else delete s.headers;
    if (excluded.length) s.excludeAttributes = [...excluded]; else delete s.excludeAttributes;
    delete s.bodyTemplate;
    if (templateOn.checked) {
      const text = templateEditor ? templateEditor.getText() : (base.bodyTemplate !== undefined ? pretty(base.bodyTemplate) : DEFAULT_TEMPLATE);
      try { s.bodyTemplate = JSON.parse(text); } catch (e) { local['settings.bodyTemplate'] = [`not valid JSON: ${e.message}.`]; }
    }
    const batch = { ...(base.batching ?? {}) };
    batch.enabled = batchOn.checked;
    if (batchOn.checked) {
      const size = batchSize.value.trim();
      if (size === '') delete batch.batchSize; else batch.batchSize = /^\d+$/.test(size) ? Number(size) : size;
      batch.algorithm = algorithm.value;
      delete batch.propertyName; delete batch.otherProps; delete batch.code;
      if (algorithm.value === 'property') {
        batch.propertyName = propertyName.value;
        if (otherProps.value.trim()) {
          try { batch.otherProps = JSON.parse(otherProps.value); } catch (e) { local['settings.batching.otherProps'] = [`not valid JSON: ${e.message}.`]; }
        }
      } else if (algorithm.value === 'code') batch.code = codeEditor ? codeEditor.getText() : (b.code ?? DEFAULT_CODE);
    }
    s.batching = batch;
    s.responseWebhook = { ...(base.responseWebhook ?? {}), enabled: webhookOn.checked };
    if (forwardUrl.value.trim()) s.responseWebhook.forwardUrl = forwardUrl.value.trim(); else delete s.responseWebhook.forwardUrl;
    return { settings: s, local };
  }

  /** Errors next to their fields: as you type for the fields you touched, all of them once Done was pressed. */
  function showErrors(errors) {
    const include = (key) => state.submitted || [...state.touched].some((t) => t === key || t.startsWith(key + '.') || key.startsWith(t));
    const rest = showFieldErrors(step2, errors, include);
    showFieldErrors(step1, errors, include);
    const code = Object.entries(errors).filter(([k]) => k.startsWith('settings.batching.code')).flatMap(([, v]) => v);
    const scriptRejections = (state.doc?.rejected ?? []).filter((r) => r.stage === 'script').map((r) => r.message);
    codeEditor?.setErrors([...code, ...scriptRejections].map((m) => ({ line: lineOf(m), message: m })));
    return rest;
  }

  // The preview: the newest edit wins. Each change restarts a short timer; a request still out is aborted, and an
  // answer to anything but the newest request is dropped, so the panel never shows an older state than the form.
  let seq = 0;
  let timer = 0;
  let inflight = null;
  let lastEdit = 0;
  function changed(event) {
    if (event?.isTrusted) lastEdit = event.timeStamp || performance.now();
    else lastEdit = performance.now();
    panel.classList.add('stale');
    panelStatus.textContent = 'Updating…';
    clearTimeout(timer);
    timer = setTimeout(runPreview, DEBOUNCE_MS);
  }

  async function runPreview() {
    const mine = ++seq;
    inflight?.abort();
    const editAt = lastEdit;
    const { settings, local } = currentSettings();
    if (!state.dataset || !state.credential) {
      panelStatus.textContent = 'Choose a dataset and a credential to see sample payloads.';
      return;
    }
    const controller = new AbortController();
    inflight = controller;
    // A field whose text is not JSON is left out of this preview and its problem shown; the panel says it is behind.
    for (const key of Object.keys(local)) {
      if (key === 'settings.bodyTemplate') delete settings.bodyTemplate;
      if (key === 'settings.batching.otherProps') delete settings.batching.otherProps;
    }
    try {
      const doc = await post('/api/v1/destinations/preview', { dataset: state.dataset, credential: state.credential, settings, limit: SAMPLES }, { signal: controller.signal });
      if (mine !== seq) return;
      state.doc = doc;
      state.previewErrors = { ...local };
      const rest = showErrors(state.previewErrors);
      drawSamples(doc, Object.keys(local).length ? local : null, rest);
    } catch (error) {
      if (controller.signal.aborted || mine !== seq) return;
      if (error.status === 400) {
        state.doc = null;
        state.previewErrors = { ...error.errors, ...local };
        showErrors(state.previewErrors);
        drawProblems(state.previewErrors);
      } else {
        panelStatus.textContent = `No samples: ${error.message}`;
      }
    } finally {
      if (mine === seq && editAt) {
        performance.measure('kiteflow:sample-update', { start: editAt, end: performance.now() });
        panel.dataset.updates = String((Number(panel.dataset.updates) || 0) + 1);
      }
    }
  }

  function drawProblems(errors) {
    panel.classList.add('stale');
    panelStatus.textContent = 'No samples until these are fixed:';
    replace(panelWarnings, h('ul', { class: 'problems error' }, Object.entries(errors).map(([key, messages]) => h('li', null, h('code', null, key.replace(/^settings\./, '')), ': ', messages.join(' ')))));
    replace(samples);
    replace(panelRejected);
    matched.textContent = '';
  }

  function drawSamples(doc, local) {
    panel.classList.toggle('stale', !!local);
    const n = doc.requests.length;
    panelStatus.textContent = local
      ? `Showing the settings without ${Object.keys(local).map((k) => k.replace(/^settings\./, '')).join(', ')}: fix it to see it in the samples.`
      : n ? `The first ${n} request${n === 1 ? '' : 's'} for the current settings.` : 'No request: every record read was rejected.';
    const endpoint = catalog.find((e) => e.id === doc.endpoint);
    matched.textContent = endpoint ? `Matches “${endpoint.summary}” (${endpoint.id}); the token needs the scope ${doc.scope ?? endpoint.scope}.`
      : url.value ? 'No endpoint Kiteflow knows matches this method and URL: bodies are sent unchecked.' : '';
    const formatWarnings = doc.warnings.filter((x) => /contentFormat/i.test(x));
    formatWarning.hidden = !formatWarnings.length;
    formatWarning.textContent = formatWarnings.join(' ');
    const batchWarnings = doc.warnings.filter((x) => /batch/i.test(x));
    batchWarning.hidden = !batchOn.checked || !batchWarnings.length;
    batchWarning.textContent = batchWarnings.join(' ');
    replace(panelWarnings, doc.warnings.length ? h('div', { class: 'notice warn' }, h('p', null, h('strong', null, 'Warnings')), h('ul', null, doc.warnings.map((x) => h('li', null, x)))) : null);
    replace(samples, doc.requests.map((r, i) => sample(r, i)));
    replace(panelRejected, doc.rejected.length ? [
      h('h3', null, `Rejected records (${fmt(doc.rejected.length + doc.moreRejected)})`),
      h('ul', { class: 'rejected-list' }, doc.rejected.map((r) => h('li', null, `Record ${fmt(r.record)}${r.line ? ` (line ${fmt(r.line)})` : ''}, ${r.stage}: ${r.message}`)))] : null);
  }

  const bodyText = (body) => (body === null || body === undefined ? '' : typeof body === 'string' ? body : pretty(body));

  function sample(r, i) {
    const details = h('details', { class: 'sample', open: state.open.has(i) },
      h('summary', null, h('span', { class: 'method' }, r.method), h('span', { class: 'url' }, r.url),
        h('span', { class: 'muted' }, r.records.length === 1 ? `record ${fmt(r.records[0])}` : `records ${fmt(r.records[0])}–${fmt(r.records[r.records.length - 1])} (${fmt(r.records.length)})`)));
    details.addEventListener('toggle', () => (details.open ? state.open.add(i) : state.open.delete(i)));
    const headerRows = Object.entries(r.headers).map(([k, v]) => h('tr', null, h('td', null, k), h('td', null, h('code', null, v))));
    const planned = bodyText(r.body);
    const bodyLabel = uid('body');
    const inner = h('div', { class: 'sample-body' });
    if (state.testMode) {
      const editor = h('textarea', { id: bodyLabel, rows: String(Math.min(24, Math.max(6, planned.split('\n').length + 1))), spellcheck: 'false', class: 'test-body' });
      editor.value = state.edits.get(i) ?? planned;
      editor.addEventListener('input', () => state.edits.set(i, editor.value));
      const result = h('div', { class: 'test-result', hidden: true });
      const send = h('button', { type: 'button', class: 'primary small' }, 'Send Test Data');
      const reset = h('button', { type: 'button', class: 'small', onclick: () => { state.edits.delete(i); editor.value = planned; } }, 'Undo my edits');
      send.addEventListener('click', () => testSend(r, i, editor, result, send));
      inner.append(h('div', { class: 'inline-form' }, send, reset),
        state.edits.has(i) && state.edits.get(i) !== planned ? h('p', { class: 'hint' }, 'This body holds your edits; the settings may plan another one (Undo my edits shows it).') : null,
        h('label', { for: bodyLabel }, `Body of sample ${i + 1} (edit it here before sending)`), editor, result);
    } else {
      inner.append(h('pre', { tabindex: '0', 'aria-label': `Body of sample ${i + 1}` }, h('code', null, planned || '(no body)')));
    }
    inner.append(h('h4', null, 'Headers'), tableWrap(h('table', null, h('tbody', null, headerRows)), `Headers of sample ${i + 1}`));
    details.append(inner);
    return details;
  }

  async function testSend(r, i, editor, result, button, confirm = false) {
    const { settings } = currentSettings();
    const payload = { dataset: state.dataset, credential: state.credential, settings, record: r.records[0], confirm };
    if (editor.value !== bodyText(r.body)) payload.body = editor.value;
    button.disabled = true;
    result.hidden = false;
    replace(result, h('p', { class: 'muted', role: 'status' }, 'Sending…'));
    try {
      const answer = await post('/api/v1/destinations/test', payload);
      replace(result, testResult(answer));
    } catch (error) {
      if (error.status === 428) {
        replace(result, h('p', { class: 'muted', role: 'status' }, 'Waiting for your confirmation…'));
        const ok = await dialog('Send a real request?', [
          h('p', { class: 'caution' }, h('strong', null, 'Test Payload Caution. '), CAUTION),
          h('p', null, error.problem.caution ?? error.message)],
        [{ label: 'Cancel', value: 'cancel' }, { label: 'Send Test Data', value: 'send', danger: true }]);
        button.disabled = false;
        if (ok) return testSend(r, i, editor, result, button, true);
        replace(result, h('p', { class: 'muted', role: 'status' }, 'Not sent.'));
        return;
      }
      const problems = error.problem?.errors ? Object.entries(error.problem.errors).map(([k, v]) => h('li', null, `${k}: ${v.join(' ')}`)) : null;
      replace(result, h('div', { class: 'notice error', role: 'alert' }, h('p', null, error.problem?.title ?? 'The test was not sent'), problems ? h('ul', null, problems) : h('p', null, error.message)));
    } finally {
      button.disabled = false;
    }
  }

  function testResult(answer) {
    const response = answer.response;
    const status = response?.status;
    return h('div', { role: 'status' },
      h('p', null, status ? h('span', { class: `status-code ${status >= 200 && status < 300 ? 'ok' : 'bad'}` }, `${status}`) : h('strong', null, answer.outcome),
        ' ', h('span', { class: 'muted' }, `${fmt(answer.durationMs)} ms${answer.waitedMs ? `, after waiting ${fmt(answer.waitedMs)} ms for the rate limit` : ''} · ${answer.credential}`)),
      answer.message ? h('p', null, answer.message) : null,
      response ? [
        h('h4', null, 'Response headers'),
        tableWrap(h('table', null, h('tbody', null, Object.entries(response.headers).map(([k, v]) => h('tr', null, h('td', null, k), h('td', null, h('code', null, v)))))), 'Response headers'),
        h('h4', null, 'Response body'),
        h('pre', { tabindex: '0', class: 'response-body' }, h('code', null, bodyText(response.body)))] : null);
  }

  async function save() {
    state.submitted = true;
    const { settings, local } = currentSettings();
    replace(summary);
    let errors;
    if (Object.keys(local).length) {
      // Nothing is sent to be saved while a field is not even JSON; the server still checks the rest.
      errors = { ...local };
      try {
        for (const key of Object.keys(local)) {
          if (key === 'settings.bodyTemplate') delete settings.bodyTemplate;
          if (key === 'settings.batching.otherProps') delete settings.batching.otherProps;
        }
        await post('/api/v1/destinations/preview', { dataset: state.dataset, credential: state.credential, settings, limit: 1 });
      } catch (error) {
        if (error.status === 400) errors = { ...error.errors, ...local };
      }
      if (!editing && !nameInput.value.trim()) errors.name = ['Name the destination.'];
    } else {
      done.disabled = true;
      try {
        const name = editing ? existing.name : nameInput.value.trim();
        if (editing) await put(`/api/v1/destinations/${enc(name)}`, { credential: state.credential, settings, version: existing.version });
        else await post('/api/v1/destinations', { name, dataset: state.dataset, credential: state.credential, settings });
        location.assign(`/destinations/${enc(name)}?saved=1`);
        return;
      } catch (error) {
        if (error.status !== 400) {
          replace(summary, h('div', { class: 'error-summary', role: 'alert' }, h('h2', null, 'Not saved'), h('p', null, error.message)));
          summary.focus();
          return;
        }
        errors = error.errors;
      } finally {
        done.disabled = false;
      }
    }
    const rest = showErrors(errors);
    const entries = Object.entries(errors);
    replace(summary, h('div', { class: 'error-summary', role: 'alert' },
      h('h2', null, `${entries.length} problem${entries.length === 1 ? '' : 's'}: nothing was saved`),
      h('ul', null, entries.map(([key, messages]) => {
        const target = rest[key] ? null : fieldFor(key);
        const text = `${target?.label ?? key}: ${messages.join(' ')}`;
        return h('li', null, target ? h('a', { href: `#${target.control?.id ?? ''}`, onclick: (e) => { e.preventDefault(); focusField(target); } }, text) : text);
      }))));
    summary.scrollIntoView({ block: 'start' });
    summary.querySelector('.error-summary').setAttribute('tabindex', '-1');
    summary.querySelector('.error-summary').focus();
  }

  function fieldFor(key) {
    let best = null;
    for (const f of main.querySelectorAll('[data-field]')) {
      const k = f.dataset.field;
      if ((key === k || key.startsWith(k + '.') || key.startsWith(k + '[')) && (!best || k.length > best.dataset.field.length) && !f.closest('[hidden]')) best = f;
    }
    if (best && !best.label) best.label = best.querySelector('legend, label')?.textContent?.replace('optional', '').trim();
    return best;
  }

  function focusField(f) {
    if (f === codeWrap && codeEditor) codeEditor.focus();
    else if (f === templateWrap && templateEditor) templateEditor.focus();
    else (f.control ?? f.querySelector('input, select, textarea'))?.focus();
  }

  // ---- Wiring --------------------------------------------------------------------------------------------------
  const touch = (key) => (event) => { state.touched.add(key); changed(event); };
  method.addEventListener('change', (e) => { methodField.querySelector('.hint').textContent = METHOD_HINTS[method.value]; touch('settings.method')(e); });
  format.addEventListener('change', touch('settings.contentFormat'));
  url.addEventListener('input', touch('settings.url'));
  headers.addEventListener('input', touch('settings.headers'));
  nameInput.addEventListener('input', (e) => { state.touched.add('name'); showResponseName(); setFieldError(nameField, null); });
  common.addEventListener('change', (e) => {
    const endpoint = catalog.find((x) => x.id === common.value);
    if (!endpoint) return;
    url.value = endpoint.url;
    method.value = endpoint.methods[0];
    methodField.querySelector('.hint').textContent = METHOD_HINTS[method.value] ?? '';
    common.value = '';
    touch('settings.url')(e);
    url.focus();
  });
  excludeSelect.addEventListener('change', (e) => {
    if (!excludeSelect.value) return;
    excluded.push(excludeSelect.value);
    drawExcluded();
    excludeSelect.focus();
    touch('settings.excludeAttributes')(e);
  });
  templateOn.addEventListener('change', async (e) => { templateWrap.hidden = !templateOn.checked; touch('settings.bodyTemplate')(e); await ensureEditors(); });
  batchOn.addEventListener('change', async (e) => { showBatching(); touch('settings.batching.enabled')(e); await ensureEditors(); });
  batchSize.addEventListener('input', touch('settings.batching.batchSize'));
  algorithm.addEventListener('change', async (e) => { showBatching(); touch('settings.batching.algorithm')(e); await ensureEditors(); });
  propertyName.addEventListener('input', touch('settings.batching.propertyName'));
  otherProps.addEventListener('input', (e) => {
    state.touched.add('settings.batching.otherProps');
    // Validated as you type: this page only says whether the text is JSON; the server says whether it fits.
    let problem = null;
    if (otherProps.value.trim()) { try { JSON.parse(otherProps.value); } catch (x) { problem = [`not valid JSON: ${x.message}.`]; } }
    setFieldError(otherProps.closest('.field'), problem);
    changed(e);
  });
  webhookOn.addEventListener('change', (e) => { showResponseName(); touch('settings.responseWebhook.enabled')(e); });
  forwardUrl.addEventListener('input', touch('settings.responseWebhook.forwardUrl'));
  credentialSelect.addEventListener('change', (e) => { state.credential = credentialSelect.value; replace(checkArea); showCaution(); touch('credential')(e); });
  datasetSelect.addEventListener('change', async (e) => {
    state.dataset = datasetSelect.value;
    if (!state.touched.has('name') && state.dataset) nameInput.value = `${state.dataset}-to-buildkite`;
    excluded.length = 0;
    await loadSchema();
    touch('dataset')(e);
  });
  nextButton.addEventListener('click', () => {
    const problems = {};
    if (!state.dataset) problems.dataset = ['Choose the dataset to send.'];
    if (!credentialSelect.value) problems.credential = ['Choose a credential, or create one.'];
    showFieldErrors(step1, problems);
    if (Object.keys(problems).length) { step1.querySelector('[aria-invalid="true"]')?.focus(); return; }
    state.credential = credentialSelect.value;
    step2.hidden = false;
    panel.hidden = false;
    done.disabled = false;
    nextButton.hidden = true;
    method.focus();
    changed();
  });
  testToggle.addEventListener('click', () => {
    state.testMode = !state.testMode;
    testToggle.setAttribute('aria-pressed', String(state.testMode));
    showCaution();
    if (state.doc) drawSamples(state.doc, null);
    if (state.testMode && state.open.size === 0) samples.querySelector('summary')?.focus();
  });
  function showCaution() {
    const credential = credentials.find((c) => c.name === state.credential);
    panelCaution.hidden = !state.testMode || credential?.kind === 'sandbox';
  }
  done.addEventListener('click', save);

  macroCombo(url, macroOptions);
  macroCombo(headers, macroOptions);
  showBatching();
  webhookBox.hidden = !webhookOn.checked;
  await loadSchema();
  showResponseName();
  if (editing) {
    await ensureEditors();
    changed();
  } else if (state.dataset) nextButton.focus();
  else datasetSelect.focus();
}

/** A labelled CodeMirror host, with its hint and error slot. */
function cmField(label, host, key, hint) {
  const labelId = uid('cml');
  const hintEl = h('p', { class: 'hint', id: `${labelId}-hint` }, hint);
  const wrap = h('div', { class: 'field', dataset: { field: key } }, h('span', { class: 'label', id: labelId }, label), host, hintEl, h('p', { class: 'field-error', hidden: true }));
  host.setAttribute('role', 'group');
  host.setAttribute('aria-labelledby', labelId);
  wrap.control = host;
  wrap.label = label;
  return wrap;
}

const lineOf = (message) => Number(/\(line (\d+)\)/.exec(message)?.[1] ?? 1);

/**
 * "{" help in a text input (the ARIA combobox pattern): typing "{" lists the dataset's attribute paths, filtered by
 * what follows; arrows move, Enter or Tab picks (writing "path}"), Escape closes.
 */
function macroCombo(input, options) {
  const listId = uid('macros');
  const list = h('ul', { id: listId, role: 'listbox', class: 'listbox', hidden: true, 'aria-label': 'Attributes of the dataset' });
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', listId);
  const wrap = h('div', { class: 'combo' });
  input.replaceWith(wrap);
  wrap.append(input, list);
  let items = [];
  let active = 0;
  let start = -1;

  function token() {
    const pos = input.selectionStart ?? input.value.length;
    const m = /\{([\w.\-]*)$/.exec(input.value.slice(0, pos));
    return m ? { start: pos - m[1].length, text: m[1] } : null;
  }
  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
  }
  function draw() {
    replace(list, items.map((o, i) => {
      const li = h('li', { role: 'option', id: `${listId}-${i}`, 'aria-selected': String(i === active) }, h('span', null, o.label), h('span', { class: 'types' }, o.detail ?? ''));
      li.addEventListener('mousedown', (e) => { e.preventDefault(); pick(i); });
      return li;
    }));
    input.setAttribute('aria-activedescendant', `${listId}-${active}`);
    list.querySelector('[aria-selected="true"]')?.scrollIntoView({ block: 'nearest' });
  }
  function update() {
    const t = token();
    if (!t) { close(); return; }
    start = t.start;
    const q = t.text.toLowerCase();
    items = options().filter((o) => o.label.toLowerCase().includes(q)).slice(0, 50);
    if (!items.length) { close(); return; }
    active = 0;
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    draw();
  }
  function pick(i) {
    const pos = input.selectionStart ?? input.value.length;
    const label = items[i].label;
    input.value = input.value.slice(0, start) + label + '}' + input.value.slice(pos).replace(/^[\w.\-]*\}?/, '');
    const caret = start + label.length + 1;
    input.setSelectionRange(caret, caret);
    close();
    input.dispatchEvent(new Event('input', { bubbles: true }));
    close();
  }
  input.addEventListener('input', (e) => { if (e.isTrusted) update(); });
  input.addEventListener('keydown', (e) => {
    if (list.hidden) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); active = (active + 1) % items.length; draw(); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); active = (active - 1 + items.length) % items.length; draw(); }
    else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); pick(active); }
    else if (e.key === 'Escape') { e.preventDefault(); close(); }
  });
  input.addEventListener('blur', close);
}
