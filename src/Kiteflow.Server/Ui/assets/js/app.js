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
    // The session (and its antiforgery token) and the page's module load side by side.
    const [module] = await Promise.all([import(`./pages/${page}.js`), page !== 'login' ? session() : null]);
    await module.default(main);
    // When the page's content is drawn (the API answered): the benchmark reads it.
    performance.mark('kiteflow:page-drawn');
  } catch (error) {
    if (error?.status === 401) return;
    console.error(error);
    replace(main, h('h1', null, 'This page could not be shown'), h('p', { class: 'error', role: 'alert' }, error?.message ?? String(error)));
  }
}

boot();
