// /destinations/{name}: state with Activate / Pause / Resume (in the destination's menu), live counts and a chart of
// delivered records and 429 waits (polled from the status endpoint, the series kept here), the records not delivered
// with Retry (one or all), the response dataset, Edit (pausing first when active) and this destination's audit trail.
import { del, enc, get, post } from '../api.js';
import { dialog, fmt, fmtRate, h, jsonDetails, menuButton, replace, setTitle, tableWrap, timeEl, toast } from '../dom.js';
import { auditTable } from './audit.js';
import { stateBadge } from './destinations.js';

const POLL_MS = 1000;
const MAX_POINTS = 1800;

export default async function render(main) {
  const name = decodeURIComponent(location.pathname.split('/')[2]);
  let destination = await get(`/api/v1/destinations/${enc(name)}`);
  const head = h('div');
  const notice = h('div');
  const counts = h('dl', { class: 'cards', 'aria-live': 'off', id: 'counts' });
  const chartBox = h('div', { class: 'chart', role: 'img', 'aria-label': 'Delivered records and 429 waits over time' });
  const chartSummary = h('p', { class: 'muted', id: 'chart-summary' });
  const lastError = h('div');
  const rejected = h('div');
  const responses = h('div');
  const audit = h('div');
  const settings = h('div');
  replace(main, head, notice,
    h('section', { 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Delivery'), counts, lastError, chartBox, chartSummary),
    h('section', { 'aria-labelledby': 'rej-title' }, h('h2', { id: 'rej-title' }, 'Records not delivered'), rejected),
    h('section', { 'aria-labelledby': 'resp-title' }, h('h2', { id: 'resp-title' }, 'Response dataset'), responses),
    h('section', { 'aria-labelledby': 'settings-title' }, h('h2', { id: 'settings-title' }, 'Settings'), settings),
    h('section', { 'aria-labelledby': 'audit-title' }, h('h2', { id: 'audit-title' }, 'Audit trail'), audit));
  if (new URLSearchParams(location.search).has('saved')) {
    replace(notice, h('p', { class: 'notice ok', role: 'status' }, `Saved ${name} as a ${destination.state}. Nothing is sent until it is activated: open Actions and choose Activate.`));
  }

  function drawHead() {
    const state = destination.state;
    const primary = state === 'draft' ? h('button', { type: 'button', class: 'primary', onclick: activate }, 'Activate')
      : state === 'active' ? h('button', { type: 'button', onclick: pause }, 'Pause')
        : h('button', { type: 'button', class: 'primary', onclick: resume }, 'Resume');
    const menu = menuButton('Actions', `Actions for destination ${name}`, [
      state === 'draft' ? { label: 'Activate…', onSelect: activate } : null,
      state === 'active' ? { label: 'Pause', onSelect: pause } : null,
      state === 'paused' ? { label: 'Resume', onSelect: resume } : null,
      { label: 'Edit settings', onSelect: edit },
      { label: 'Export destination file', href: `/api/v1/destinations/${enc(name)}/export`, download: `${name}.json` },
      state !== 'active' ? { label: 'Delete…', onSelect: remove } : null,
    ]);
    replace(head, setTitle(document.body, name, stateBadge(state), primary, menu),
      h('p', { class: 'muted' }, 'Sends ', h('a', { href: `/datasets/${enc(destination.dataset)}` }, destination.dataset), ' with the credential ', h('strong', null, destination.credential), ' to ',
        h('code', null, `${destination.settings.method ?? 'POST'} ${destination.settings.url}`)));
  }

  async function activate() {
    const body = h('fieldset', null, h('legend', null, 'Which records?'),
      h('div', { class: 'check' }, h('input', { type: 'radio', name: 'from', id: 'from-all', value: 'all', checked: true }), h('label', { for: 'from-all' }, 'All records — from the dataset\'s first record')),
      h('div', { class: 'check' }, h('input', { type: 'radio', name: 'from', id: 'from-new', value: 'new' }), h('label', { for: 'from-new' }, 'Only new records — those appended from now on')));
    const choice = await dialog(`Activate ${name}?`, [h('p', null, 'From then on every record is sent to Buildkite, and records appended later too.'), body],
      [{ label: 'Cancel', value: 'cancel' }, { label: 'Activate', value: 'go', primary: true }]);
    if (!choice) return;
    const from = body.querySelector('input[name="from"]:checked')?.value ?? 'all';
    await act(() => post(`/api/v1/destinations/${enc(name)}/activate`, { from }), `Activated ${name} (${from === 'all' ? 'all records' : 'only new records'}).`);
  }
  const pause = () => act(() => post(`/api/v1/destinations/${enc(name)}/pause`, {}), `Paused ${name}: calls in flight finish, nothing new is sent.`);
  const resume = () => act(() => post(`/api/v1/destinations/${enc(name)}/resume`, {}), `Resumed ${name} where it stopped.`);

  async function act(call, done) {
    try {
      await call();
      toast(done);
      replace(notice);
      destination = await get(`/api/v1/destinations/${enc(name)}`);
      drawHead();
      await Promise.all([poll(), showAudit()]);
      head.querySelector('.page-actions button')?.focus();
    } catch (error) {
      const problems = error.problem?.errors ? Object.entries(error.problem.errors).map(([k, v]) => h('li', null, `${k}: ${v.join(' ')}`)) : null;
      replace(notice, h('div', { class: 'notice error', role: 'alert' }, h('p', null, error.problem?.title ?? error.message), problems ? h('ul', null, problems) : h('p', null, error.message)));
    }
  }

  async function edit() {
    if (destination.state === 'active') {
      const ok = await dialog('Pause to edit?', h('p', null, `${name} is delivering. Its settings can change only while it is paused: pause it now (calls in flight finish), edit, then resume.`),
        [{ label: 'Cancel', value: 'cancel' }, { label: 'Pause and edit', value: 'pause', primary: true }]);
      if (!ok) return;
      try { await post(`/api/v1/destinations/${enc(name)}/pause`, {}); } catch (error) { toast(error.message, 'error'); return; }
    }
    location.assign(`/destinations/${enc(name)}/edit`);
  }

  async function remove() {
    if (!await dialog(`Delete ${name}?`, h('p', null, 'Its settings are deleted; the name is free again. Its dataset and response dataset stay.'), [{ label: 'Cancel', value: 'cancel' }, { label: 'Delete', value: 'yes', danger: true }])) return;
    try { await del(`/api/v1/destinations/${enc(name)}`); location.assign('/destinations'); } catch (error) { toast(error.message, 'error'); }
  }

  // The live counts and the chart: one status call a second while the page is visible.
  const series = [[], [], []];
  let chart = null;
  let timer = null;
  async function poll() {
    clearTimeout(timer);
    try {
      const s = await get(`/api/v1/destinations/${enc(name)}/status`);
      drawCounts(s);
      if (s.state !== destination.state) { destination.state = s.state; drawHead(); }
      series[0].push(Date.now() / 1000);
      series[1].push(s.delivered);
      series[2].push(s.rateLimitWaits);
      if (series[0].length > MAX_POINTS) series.forEach((a) => a.shift());
      await drawChart(s);
    } catch (error) {
      if (error.status === 401) return;
    } finally {
      if (!document.hidden) timer = setTimeout(poll, POLL_MS);
    }
  }
  document.addEventListener('visibilitychange', () => { if (!document.hidden) poll(); });

  function drawCounts(s) {
    const card = (label, value, key) => h('div', { class: 'card', dataset: { count: key } }, h('dt', null, label), h('dd', null, value));
    replace(counts,
      card('Delivered', fmt(s.delivered), 'delivered'), card('Rejected', fmt(s.rejected), 'rejected'), card('Possibly delivered', fmt(s.possiblyDelivered), 'possibly'),
      card('Requests', fmt(s.requests), 'requests'), card('Retries', fmt(s.retries), 'retries'), card('429 waits', fmt(s.rateLimitWaits), 'waits'),
      card('Lag', fmt(s.lag), 'lag'), card('Rate', fmtRate(s.recordsPerSecond), 'rate'), card('Dataset records', fmt(s.datasetRecords), 'records'), card('Worker', s.worker, 'worker'));
    replace(lastError, s.lastError ? h('p', { class: 'notice error' }, 'Last error ', timeEl(s.lastErrorAt), ': ', s.lastError) : null);
    if (s.rejected !== lastRejected) { lastRejected = s.rejected; showRejected(); }
  }

  async function drawChart(s) {
    chartSummary.textContent = `Since this page opened: ${fmt(s.delivered)} records delivered, ${fmt(s.rateLimitWaits)} waits for the rate limit.`;
    if (!window.matchMedia || series[0].length < 1) return;
    if (!chart) {
      const { default: uPlot } = await import('../../vendor/uplot.js');
      const dark = matchMedia('(prefers-color-scheme: dark)').matches;
      const axis = { stroke: dark ? '#a2abb5' : '#59636e', grid: { stroke: dark ? '#2b3138' : '#e3e6ea' }, ticks: { stroke: dark ? '#2b3138' : '#e3e6ea' } };
      chart = new uPlot({
        width: Math.max(280, chartBox.clientWidth), height: 240,
        series: [{}, { label: 'Delivered records', stroke: dark ? '#36c98a' : '#0a6b47', width: 2, scale: 'records' },
          { label: '429 waits', stroke: dark ? '#ffb4ab' : '#b3261e', width: 2, scale: 'waits', dash: [6, 4] }],
        axes: [axis, { ...axis, scale: 'records', label: 'records' }, { ...axis, scale: 'waits', side: 1, label: '429 waits', grid: { show: false } }],
        scales: { x: { time: true, range: (u, min, max) => [Math.min(min, max - 60), max] }, records: { range: (u, min, max) => [0, Math.max(1, max)] }, waits: { range: (u, min, max) => [0, Math.max(1, max)] } },
      }, series, chartBox);
      new ResizeObserver(() => chart.setSize({ width: Math.max(280, chartBox.clientWidth), height: 240 })).observe(chartBox);
    } else chart.setData(series);
  }

  let lastRejected = -1;
  async function showRejected() {
    const page = await get(`/api/v1/destinations/${enc(name)}/rejected?limit=100`);
    if (!page.items.length) { replace(rejected, h('p', { class: 'muted' }, 'None.')); return; }
    const retry = async (offsets) => {
      try {
        const answer = await post(`/api/v1/destinations/${enc(name)}/rejected/retry`, offsets ? { offsets } : {});
        toast(answer.message);
        lastRejected = -1;
        await poll();
      } catch (error) { toast(error.message, 'error'); }
    };
    replace(rejected,
      h('div', { class: 'pager' }, h('button', { type: 'button', class: 'primary', onclick: () => retry(null) }, `Retry all (${fmt(page.rejected)})`),
        h('span', { class: 'muted' }, 'Fix the settings first (Actions → Edit settings), then retry: records are sent with the current settings.')),
      tableWrap(h('table', { class: 'rejected' },
        h('thead', null, h('tr', null, h('th', { class: 'num' }, 'Record'), h('th', null, 'Stage'), h('th', null, 'Reason'), h('th', null, 'Original record'), h('th', null, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h('tbody', null, page.items.map((r) => h('tr', null,
          h('td', { class: 'num' }, fmt(r.offset)), h('td', null, r.stage, r.possiblyDelivered ? h('span', { class: 'badge paused' }, 'possibly delivered') : null),
          h('td', null, r.status ? `${r.status}: ` : '', r.message, r.retrying ? h('span', { class: 'muted' }, ' (retry under way)') : null),
          h('td', null, r.record ? jsonDetails(r.record) : '—'),
          h('td', null, r.retryable || r.possiblyDelivered ? h('button', { type: 'button', class: 'small', 'aria-label': `Retry record ${r.offset}`, onclick: () => retry([r.offset]) }, 'Retry') : null))))), 'Records not delivered'));
  }

  async function showResponses() {
    const enabled = destination.settings.responseWebhook?.enabled;
    if (!enabled) { replace(responses, h('p', { class: 'muted' }, 'Off: the response webhook is not enabled in the settings.')); return; }
    const named = await get(`/api/v1/catalog/response-dataset?destination=${enc(name)}`);
    replace(responses, h('p', null, 'Every call\'s response is appended to ', h('a', { href: `/datasets/${enc(named.dataset)}` }, named.dataset),
      destination.settings.responseWebhook.forwardUrl ? [' and forwarded to ', h('code', null, destination.settings.responseWebhook.forwardUrl)] : null, '.'));
  }

  async function showAudit() {
    const page = await get(`/api/v1/audit?resourceType=destination&resourceName=${enc(name)}&limit=50`);
    replace(audit, page.items.length ? auditTable(page.items, `Audit trail of ${name}`) : h('p', { class: 'muted' }, 'No entries.'),
      h('p', null, h('a', { href: `/audit?resourceType=destination&resourceName=${enc(name)}` }, 'The whole trail')));
  }

  drawHead();
  replace(settings, h('pre', { tabindex: '0' }, h('code', null, JSON.stringify(destination.settings, null, 2))));
  await Promise.all([poll(), showResponses(), showAudit()]);
}
