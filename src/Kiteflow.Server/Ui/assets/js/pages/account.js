// /account: who is logged in, and changing that user's password (the one-time password of the first start included).
import { put } from '../api.js';
import { field, h, liveStatus, replace, setTitle, showFieldErrors } from '../dom.js';

export default async function render(main) {
  const password = (name, autocomplete) => h('input', { type: 'password', name, autocomplete, spellcheck: 'false' });
  const current = password('currentPassword', 'current-password');
  const next = password('newPassword', 'new-password');
  const again = password('repeatPassword', 'new-password');
  const status = liveStatus();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Change password');
  const form = h('form', { class: 'account-form', novalidate: true, 'aria-label': 'Change password' },
    field('Current password', current, { key: 'currentPassword' }),
    field('New password', next, { key: 'newPassword', hint: 'At least 8 characters.' }),
    field('Repeat the new password', again, { key: 'repeatPassword' }),
    submit, status);
  const who = document.querySelector('.who a')?.textContent ?? '';
  replace(main, setTitle(main, 'Your account'),
    h('p', { class: 'muted' }, `Logged in as ${who}. A password printed by the server on its first start is meant to be changed here.`),
    h('h2', null, 'Change password'), form);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = '';
    showFieldErrors(form, {});
    if (next.value !== again.value) {
      showFieldErrors(form, { repeatPassword: ['The two new passwords differ; type the same one twice.'] });
      again.focus();
      return;
    }
    submit.disabled = true;
    try {
      await put('/api/v1/session/password', { currentPassword: current.value, newPassword: next.value });
      for (const input of [current, next, again]) input.value = '';
      status.textContent = 'Your password is changed.';
    } catch (error) {
      if (error.status === 400) showFieldErrors(form, error.errors);
      else status.textContent = error.message;
    } finally { submit.disabled = false; }
  });
}
