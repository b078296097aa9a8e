// /login: user name and password; a throttled login says when to try again.
import { api, useToken } from '../api.js';
import { field, h, replace, setFieldError, showFieldErrors } from '../dom.js';

function nextTarget() {
  const next = new URLSearchParams(location.search).get('next');
  return next && next.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next : '/datasets';
}

export default function render(main) {
  const user = h('input', { name: 'user', autocomplete: 'username', required: true, value: 'admin', autocapitalize: 'none', spellcheck: 'false' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const userField = field('User name', user, { key: 'user' });
  const passwordField = field('Password', password, { key: 'password', hint: 'On the first start, kiteflow serve printed a one-time password for admin.' });
  const message = h('p', { class: 'notice error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h('form', { class: 'login', novalidate: true }, userField, passwordField, message, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    message.hidden = true;
    setFieldError(userField, null);
    setFieldError(passwordField, null);
    const local = {};
    if (!user.value.trim()) local.user = ['Give the user name, e.g. admin.'];
    if (!password.value) local.password = ['Give the password.'];
    if (Object.keys(local).length) { showFieldErrors(form, local); form.querySelector('[aria-invalid="true"]')?.focus(); return; }
    submit.disabled = true;
    try {
      const answer = await api('POST', '/api/v1/session', { user: user.value.trim(), password: password.value }, { noRedirect: true, noToken: true });
      useToken(answer.antiforgeryToken);
      location.assign(nextTarget());
    } catch (error) {
      submit.disabled = false;
      if (error.status === 400) { showFieldErrors(form, error.errors); return; }
      message.hidden = false;
      message.textContent = error.status === 429
        ? `Too many failed logins: try again in ${error.retryAfter ?? 'a few'} seconds.`
        : error.status === 401 ? 'The user name or the password is wrong.' : error.message;
      password.select();
      password.focus();
    }
  });
  replace(main, h('div', { class: 'narrow' }, h('h1', null, 'Log in to Kiteflow'), form));
  password.focus();
}
