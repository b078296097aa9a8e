// Boots a page: the logout button, then the page's own module (js/pages/<page>.js) fills <main>.
import { api, session } from './api.js';
import { h, replace } from './dom.js';

const page = document.body.dataset.page;
const main = document.getElementById('main');

document.getElementById('logout')?.addEventListener('click', async () => {
  try { await api('DELETE', '/api/v1/session'); } finally { location.assign('/login'); }
});

async function boot() {
  try {
    if (page !== 'login') await session();
    const module = await import(`./pages/${page}.js`);
    await module.default(main);
  } catch (error) {
    if (error?.status === 401) return;
    console.error(error);
    replace(main, h('h1', null, 'This page could not be shown'), h('p', { class: 'error', role: 'alert' }, error?.message ?? String(error)));
  }
}

boot();
