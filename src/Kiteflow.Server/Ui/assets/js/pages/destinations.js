// /destinations: every destination with its dataset, credential and state.
import { enc, get } from '../api.js';
import { h, replace, setTitle, tableWrap, timeEl } from '../dom.js';

export const stateBadge = (state) => h('span', { class: `badge ${state}` }, state);

export default async function render(main) {
  const destinations = await get('/api/v1/destinations');
  replace(main, setTitle(main, 'Destinations', h('a', { class: 'button primary', href: '/destinations/new' }, 'New destination')),
    destinations.length ? tableWrap(h('table', null,
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'State'), h('th', null, 'Dataset'), h('th', null, 'Credential'), h('th', null, 'Method and URL'), h('th', null, 'Changed'))),
      h('tbody', null, destinations.map((d) => h('tr', null,
        h('td', null, h('a', { href: `/destinations/${enc(d.name)}` }, d.name)), h('td', null, stateBadge(d.state)),
        h('td', null, h('a', { href: `/datasets/${enc(d.dataset)}` }, d.dataset)), h('td', null, d.credential),
        h('td', null, h('code', null, `${d.settings?.method ?? 'POST'} ${d.settings?.url ?? ''}`)), h('td', null, timeEl(d.updatedAt)))))), 'Destinations')
      : h('p', { class: 'muted' }, 'No destination yet. Open a dataset and choose + → Send to destination.'));
}
