// /api-keys (admin): create a key for scripts (shown once), list them, revoke one.
import { del, get, post } from '../api.js';
import { copyButton, dialog, field, h, liveStatus, replace, setTitle, showFieldErrors, tableWrap, timeEl, toast } from '../dom.js';

export default async function render(main) {
  const name = h('input', { name: 'name', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. ci-import' });
  const status = liveStatus();
  const shown = h('div');
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create API key');
  const form = h('form', { class: 'inline-form', novalidate: true, 'aria-label': 'New API key' }, field('Key name', name, { key: 'name' }), submit);
  const list = h('div');
  replace(main, setTitle(main, 'API keys'),
    h('p', { class: 'muted' }, 'Scripts call the REST API with Authorization: Bearer kfk_…. A key is shown once and stored as a hash.'),
    form, status, shown, h('h2', null, 'All keys'), list);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    showFieldErrors(form, {});
    try {
      const key = await post('/api/v1/api-keys', { name: name.value.trim() });
      name.value = '';
      replace(shown, h('div', { class: 'notice warn' },
        h('p', null, h('strong', null, `The key ${key.name} — shown only now.`)),
        h('div', { class: 'secret' }, h('code', { class: 'api-key' }, key.key), copyButton(key.key, 'Copy key')),
        h('pre', null, h('code', null, `curl -H "Authorization: Bearer ${key.key}" ${location.origin}/api/v1/datasets`))));
      await load();
    } catch (error) {
      if (error.status === 400) showFieldErrors(form, error.errors);
      else status.textContent = error.message;
    } finally { submit.disabled = false; }
  });
  async function load() {
    const keys = await get('/api/v1/api-keys');
    replace(list, keys.length ? tableWrap(h('table', null,
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Key'), h('th', null, 'User'), h('th', null, 'Created'), h('th', null, 'Last used'), h('th', null, 'State'), h('th', null, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', null, keys.map((k) => h('tr', null,
        h('td', null, k.name), h('td', null, h('code', null, `${k.prefix}…`)), h('td', null, k.user), h('td', null, timeEl(k.createdAt)), h('td', null, timeEl(k.lastUsedAt)),
        h('td', null, k.revokedAt ? h('span', null, 'revoked ', timeEl(k.revokedAt)) : h('span', { class: 'badge active' }, 'active')),
        h('td', null, k.revokedAt ? null : h('button', { type: 'button', class: 'small danger', 'aria-label': `Revoke ${k.name}`, onclick: () => revoke(k) }, 'Revoke')))))), 'API keys')
      : h('p', { class: 'muted' }, 'No API key yet.'));
  }
  async function revoke(k) {
    if (!await dialog(`Revoke ${k.name}?`, h('p', null, 'Scripts using it are refused from now on.'), [{ label: 'Cancel', value: 'cancel' }, { label: 'Revoke', value: 'yes', danger: true }])) return;
    try { await del(`/api/v1/api-keys/${k.id}`); toast(`Revoked ${k.name}.`); await load(); } catch (error) { toast(error.message, 'error'); }
  }
  await load();
}
