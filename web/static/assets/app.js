// docplat browser UI: one page over the JSON API (shared/API.md and the
// server's /api/openapi.json), as ES modules with no build step. This file is
// the shell: the router, the top bar, the banner, the language switch.
//
// Layout (web/static/assets/):
//   app.js            router and shell (this file): ROUTES maps a hash path to a screen
//   api.js            fetch wrapper: CSRF, Retry-After retries, ApiError, uploads with progress
//   i18n.js           every UI string in en and zh-CN, t(), dates and sizes
//   dom.js            h()/fill()/field(): building the page from text nodes only
//   ui.js             shared widgets: banners, badges, tags, progress bar
//   state.js          the logged-in user and what screens hand each other
//   router.js         go(), rerender(), the hash builders
//   names.js          user and department ids shown as names (GET /directory)
//   screens/<name>.js one screen each: export a render(view, params, alive)
//
// Adding a screen: write screens/<name>.js exporting its render function
// (draw one <h1>; async renders check alive() after each await), add its
// route to ROUTES below, its strings to both tables in i18n.js, and a
// scenario web/e2e/<name>.test.mjs that visits it, calls checkA11y and saves a
// screenshot (documentation/testing.md, "Browser tests").
//
// Imports carry ?v=__ASSET_VERSION__, which web.go replaces with the hash
// of all assets: every module is cached for a year and still changes the
// moment the binary does. An import without it would load a second copy.
//
// Safety rule: every string that comes from the server reaches the page as
// a text node or through setAttribute on an attribute the code chose. The
// only server markup honoured is <mark> in search snippets, rebuilt from the
// split string (screens/documents.js), never parsed as HTML, and the
// preview API's server-sanitized Markdown HTML (screens/preview.js).
import { h, fill, $ } from './dom.js?v=__ASSET_VERSION__';
import { api, hooks } from './api.js?v=__ASSET_VERSION__';
import { t, LANGS, currentLang, setLanguage } from './i18n.js?v=__ASSET_VERSION__';
import { state, flash } from './state.js?v=__ASSET_VERSION__';
import { go, setRouter, parseHash } from './router.js?v=__ASSET_VERSION__';
import { showBanner, showError, showInfo, clearBanner, loginLink } from './ui.js?v=__ASSET_VERSION__';
import { renderList } from './screens/documents.js?v=__ASSET_VERSION__';
import { renderDoc } from './screens/document.js?v=__ASSET_VERSION__';
import { renderUpload } from './screens/upload.js?v=__ASSET_VERSION__';
import { renderLogin } from './screens/login.js?v=__ASSET_VERSION__';
import { renderUploadLinks, mayCreateUploadLinks } from './screens/uploadlinks.js?v=__ASSET_VERSION__';
import { renderAdmin, isAdministrator } from './screens/admin.js?v=__ASSET_VERSION__';
import { renderStats } from './screens/stats.js?v=__ASSET_VERSION__';
import { renderTrash } from './screens/trash.js?v=__ASSET_VERSION__';

// ROUTES: [pattern, render(view, params, alive, ...captures)]; the first match wins.
const ROUTES = [
  [/^\/?$/, (view, params, alive) => renderList(view, params, alive)],
  [/^\/login$/, (view) => renderLogin(view)],
  [/^\/upload$/, (view) => renderUpload(view)],
  [/^\/upload-links$/, (view, params, alive) => renderUploadLinks(view, alive)],
  [/^\/doc\/([^/]+)$/, (view, params, alive, id) => renderDoc(view, decodeURIComponent(id), alive)],
  [/^\/admin(?:\/(users|departments|audit))?$/, (view, params, alive, tab) => renderAdmin(view, params, alive, tab || 'users')],
  [/^\/stats$/, (view, params, alive) => renderStats(view, params, alive)],
  [/^\/trash$/, (view, params, alive) => renderTrash(view, params, alive)],
];

function renderNotFound(view) {
  document.title = t('title.suffix', { title: t('notFound.title') });
  fill(view, h('h1', {}, t('notFound.page')), h('p', {}, h('a', { href: '#/' }, t('common.backToDocuments'))));
}

let routeSeq = 0;
let currentHash = location.hash;
let navigated = false; // the first screen keeps focus at the top, where the skip link is

async function route() {
  const seq = ++routeSeq;
  const alive = () => seq === routeSeq; // false once the user has navigated on
  currentHash = location.hash;
  clearBanner();
  if (state.flash) {
    showBanner(state.flash.kind, state.flash.text, state.flash.action);
    state.flash = null;
  }
  const { path, params } = parseHash();
  renderChrome(path);
  const view = $('view');
  try {
    let found = false;
    for (const [re, render] of ROUTES) {
      const m = path.match(re);
      if (m) {
        found = true;
        await render(view, params, alive, ...m.slice(1));
        break;
      }
    }
    if (!found) renderNotFound(view);
  } catch (e) {
    if (alive()) showError(e);
  }
  if (alive() && navigated) focusHeading(view);
  navigated = true;
}

// focusHeading moves focus to the screen's main heading after a navigation,
// so keyboard and screen-reader users start reading the new screen, not the
// old link.
function focusHeading(view) {
  const h1 = view.querySelector('h1');
  if (!h1) return;
  h1.tabIndex = -1;
  h1.focus({ preventScroll: true });
}

// renderChrome draws the navigation, the language switch and the user box.
function renderChrome(path = parseHash().path) {
  const link = (href, text, active) => h('a', { href, 'aria-current': active ? 'page' : null }, text);
  $('nav').setAttribute('aria-label', t('nav.main'));
  fill($('nav'),
    link('#/', t('nav.documents'), path === '/' || path === ''),
    state.me ? link('#/upload', t('nav.upload'), path === '/upload') : null,
    state.me ? link('#/stats', t('nav.stats'), path === '/stats') : null,
    mayCreateUploadLinks(state.me) ? link('#/upload-links', t('nav.uploadLinks'), path === '/upload-links') : null,
    state.me ? link('#/trash', t('nav.trash'), path === '/trash') : null,
    isAdministrator(state.me) ? link('#/admin', t('nav.admin'), path.startsWith('/admin')) : null);

  const langSel = h('select', { name: 'lang', 'aria-label': t('app.language'), class: 'lang' },
    LANGS.map(([code, label]) => h('option', { value: code, lang: code }, label)));
  langSel.value = currentLang();
  langSel.addEventListener('change', async () => {
    setLanguage(langSel.value);
    translateShell();
    await route();
    // Same screen, other words: give focus back to the switch the user is on.
    $('user').querySelector('select.lang')?.focus();
  });

  const user = $('user');
  if (state.me) {
    const me = state.me;
    fill(user,
      langSel,
      h('span', { class: 'user-name', title: me.username || '' }, me.display_name || me.username || t('user.signedIn')),
      h('span', { class: 'badge', title: t('user.role') }, t(`role.${me.role || 'member'}`)),
      h('button', { type: 'button', class: 'secondary', onclick: logout }, t('user.logout')));
  } else {
    fill(user, langSel, h('span', { class: 'muted' }, t('user.guest')), loginLink(t('user.login')));
  }
}

// translateShell sets what index.html draws before the modules run.
function translateShell() {
  document.documentElement.lang = currentLang();
  fill($('skip'), t('app.skip'));
}

async function logout() {
  try {
    await api('POST', '/auth/logout');
  } catch (e) {
    if (e.status !== 401) {
      showError(e);
      return;
    }
  }
  state.me = null;
  state.csrf = '';
  flash('info', t('logout.done'));
  go('#/');
}

hooks.sessionEnded = () => renderChrome();
hooks.retrying = (seconds) => showInfo(t('err.busyRetrying', { seconds }));
hooks.recovered = () => clearBanner();
setRouter(route);

window.addEventListener('hashchange', () => {
  if (state.xhr) {
    if (!confirm(t('upload.leave'))) {
      history.replaceState(null, '', currentHash || '#/');
      return;
    }
    state.xhr.abort();
  }
  route();
});

window.addEventListener('beforeunload', (e) => {
  if (state.xhr) {
    e.preventDefault();
    e.returnValue = '';
  }
});

// The skip link targets the main region without touching the hash (which is the route).
$('skip').addEventListener('click', (e) => {
  e.preventDefault();
  focusHeading($('view'));
});

async function start() {
  translateShell();
  try {
    state.me = await api('GET', '/me');
  } catch (e) {
    state.me = null; // 401: browse anonymously
    if (e.status !== 401) flash('error', t('err.loginCheck', { message: e.message }));
  }
  route();
}

start();
