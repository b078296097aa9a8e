// /credentials: every credential (never a token), create one (the token is taken once), Check it, delete it.
import { del, enc, get, post } from '../api.js';
import { dialog, field, h, liveStatus, replace, setTitle, showFieldErrors, tableWrap, timeEl, toast } from '../dom.js';

/** A form that creates a credential; onCreated gets the created credential. The token field is never filled back. */
export function credentialForm(onCreated, { inline = false } = {}) {
  const name = h('input', { name: 'name', autocomplete: 'off', spellcheck: 'false', placeholder: 'e.g. acme' });
  const token = h('input', { name: 'token', type: 'password', autocomplete: 'off', spellcheck: 'false', placeholder: 'bkua_…' });
  const apiBase = h('input', { name: 'apiBase', type: 'url', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://api.buildkite.com' });
  const status = liveStatus();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create credential');
  const form = h('form', { class: inline ? 'credential-form inline-box' : 'credential-form', novalidate: true, 'aria-label': 'New credential' },
    h('div', { class: 'row' },
      field('Credential name', name, { key: 'name' }),
      field('API token', token, { key: 'token', hint: 'A Buildkite API access token. Kiteflow encrypts it at once and never shows it again.' }),
      field('API base', apiBase, { key: 'apiBase', hint: 'Leave empty for https://api.buildkite.com.' })),
    h('div', { class: 'inline-form' }, submit), status);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    status.textContent = '';
    showFieldErrors(form, {});
    try {
      const created = await post('/api/v1/credentials', { name: name.value.trim(), token: token.value, apiBase: apiBase.value.trim() || null });
      token.value = '';
      name.value = '';
      apiBase.value = '';
      status.textContent = `Created ${created.name}.`;
      await onCreated(created);
    } catch (error) {
      if (error.status === 400) {
        const rest = showFieldErrors(form, error.errors);
        status.textContent = Object.values(rest).flat().join(' ');
        form.querySelector('[aria-invalid="true"]')?.focus();
      } else status.textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** What Check found: valid or not, scopes, expiry and user. */
export function checkResult(check) {
  const t = check.token;
  return h('div', { class: check.valid ? 'notice ok' : 'notice error', role: 'status' },
    h('p', null, h('strong', null, check.valid ? 'The token works.' : 'The token does not work.'), ' ', check.message),
    t ? h('dl', { class: 'kv' },
      h('dt', null, 'Scopes'), h('dd', null, t.scopes.length ? t.scopes.join(', ') : 'none'),
      h('dt', null, 'User'), h('dd', null, [t.userName, t.userEmail && `<${t.userEmail}>`].filter(Boolean).join(' ') || '—'),
      h('dt', null, 'Expires'), h('dd', null, t.expiresAt ? timeEl(t.expiresAt) : 'never'),
      t.description ? [h('dt', null, 'Description'), h('dd', null, t.description)] : null) : null);
}

export async function checkCredential(name, target) {
  replace(target, h('p', { class: 'muted', role: 'status' }, `Checking ${name}…`));
  try { replace(target, checkResult(await post(`/api/v1/credentials/${enc(name)}/check`, {}))); }
  catch (error) { replace(target, h('p', { class: 'notice error', role: 'alert' }, error.message)); }
}

export default async function render(main) {
  const list = h('div');
  const checkArea = h('div', { id: 'check-result' });
  replace(main, setTitle(main, 'Credentials'),
    h('p', { class: 'muted' }, 'A credential is a Buildkite API token, sealed with the server\'s key. The sandbox credential points at the Buildkite API emulator the server runs, so everything works offline.'),
    h('h2', null, 'New credential'), credentialForm(() => load()),
    h('h2', null, 'All credentials'), list, checkArea);

  async function load() {
    const credentials = await get('/api/v1/credentials');
    replace(list, tableWrap(h('table', null,
      h('thead', null, h('tr', null, h('th', null, 'Name'), h('th', null, 'Kind'), h('th', null, 'API base'), h('th', null, 'Created'), h('th', null, h('span', { class: 'visually-hidden' }, 'Actions')))),
      h('tbody', null, credentials.map((c) => h('tr', null,
        h('td', null, c.name), h('td', null, c.kind), h('td', null, h('code', null, c.apiBase)), h('td', null, timeEl(c.createdAt)),
        h('td', null, h('div', { class: 'page-actions' },
          h('button', { type: 'button', class: 'small', 'aria-label': `Check ${c.name}`, onclick: () => checkCredential(c.name, checkArea) }, 'Check'),
          h('button', { type: 'button', class: 'small danger', 'aria-label': `Delete ${c.name}`, onclick: () => remove(c.name) }, 'Delete'))))))), 'Credentials'));
  }

  async function remove(name) {
    const ok = await dialog(`Delete ${name}?`, h('p', null, 'Its token is deleted. A credential a destination uses cannot be deleted.'), [{ label: 'Cancel', value: 'cancel' }, { label: 'Delete', value: 'yes', danger: true }]);
    if (!ok) return;
    try { await del(`/api/v1/credentials/${enc(name)}`); toast(`Deleted ${name}.`); await load(); }
    catch (error) { toast(error.message, 'error'); }
  }
  await load();
}
