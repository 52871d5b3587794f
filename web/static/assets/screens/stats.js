// Screen #/stats: the statistics dashboard. Top documents by window
// (GET /stats/top), the hot set polled while the page is visible
// (GET /stats/hot) and, for admins and dept_admins, department usage against
// quota (GET /stats/departments).
import { h, fill, field, section, loading, timeEl, setTitle, selectBox } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize, currentLang } from '../i18n.js?v=__ASSET_VERSION__';
import { state } from '../state.js?v=__ASSET_VERSION__';
import { docHash, docPath } from '../router.js?v=__ASSET_VERSION__';
import { nameEl } from '../names.js?v=__ASSET_VERSION__';

export const WINDOWS = ['1h', '24h', '7d'];
const TOP_LIMIT = 10;
// Every few seconds is live enough for "what is hot" and costs one small
// request per open dashboard; hidden pages do not poll at all.
export const HOT_POLL_MS = 5000;
const NO_DEPARTMENT = 'none'; // the usage bucket of users without a department (docs.NoDepartment)

const fmtNumber = (n, digits = 0) => new Intl.NumberFormat(currentLang(), { maximumFractionDigits: digits }).format(n);

const isManager = () => state.me?.role === 'admin' || state.me?.role === 'dept_admin';

export async function renderStats(view, params, alive) {
  setTitle(t('stats.title'));
  const win = WINDOWS.includes(params.get('window')) ? params.get('window') : '24h';
  fill(view,
    h('h1', {}, t('stats.title')),
    topSection(win, alive),
    hotSection(alive),
    isManager() ? departmentsSection(alive) : null);
}

// ---- top documents ----

function topSection(initial, alive) {
  const box = h('div', { class: 'stats-top' }, loading());
  const sel = selectBox('window', WINDOWS.map((w) => [w, t(`stats.window.${w}`)]), initial, t('stats.window'));
  sel.addEventListener('change', () => {
    // Remembered in the address without a navigation, so focus stays on the choice.
    history.replaceState(null, '', sel.value === '24h' ? '#/stats' : `#/stats?window=${sel.value}`);
    loadTop(box, sel.value, alive);
  });
  loadTop(box, initial, alive);
  return section(t('stats.top'), h('div', { class: 'stats-period' }, field(t('stats.window'), sel)), box);
}

async function loadTop(box, win, alive) {
  fill(box, loading());
  let items;
  try {
    ({ items = [] } = (await api('GET', `/stats/top?window=${win}&limit=${TOP_LIMIT}`)) || {});
  } catch (e) {
    if (alive()) fill(box, h('p', { class: 'error-text' }, t('stats.error', { message: e.message })));
    return;
  }
  if (!alive()) return;
  if (items.length === 0) {
    fill(box, h('p', { class: 'muted' }, t('stats.top.none')));
    return;
  }
  fill(box, h('table', { class: 'stats-table' },
    h('caption', { class: 'visually-hidden' }, t('stats.top.caption', { window: t(`stats.window.${win}`) })),
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, t('stats.col.rank')),
      h('th', { scope: 'col' }, t('common.title')),
      h('th', { scope: 'col', class: 'hide-narrow' }, t('doc.owner')),
      h('th', { scope: 'col', class: 'num' }, t('stats.views')),
      h('th', { scope: 'col', class: 'num' }, t('stats.downloads')))),
    h('tbody', {}, items.map((it, i) => h('tr', {},
      h('td', {}, fmtNumber(i + 1)),
      h('td', {}, h('a', { href: docHash(it.document.id) }, it.document.title || t('common.untitled'))),
      h('td', { class: 'hide-narrow' }, nameEl(it.document.owner_id)),
      h('td', { class: 'num' }, fmtNumber(it.views)),
      h('td', { class: 'num' }, fmtNumber(it.downloads)))))));
}

// ---- the hot set, live ----

function hotSection(alive) {
  const list = h('div', { class: 'stats-hot' }, loading());
  const updated = h('p', { class: 'muted small' });
  const titles = new Map(); // document id -> Promise<title>: read once while the screen lives
  let timer = null;
  let chain = 0; // the polling chain that may schedule the next poll; a restart starts a new one

  const titleOf = (id) => {
    if (!titles.has(id)) {
      titles.set(id, api('GET', docPath(id)).then((d) => d?.title || t('common.untitled'), () => {
        titles.delete(id); // asked again at the next poll
        return t('common.untitled');
      }));
    }
    return titles.get(id);
  };

  const poll = async () => {
    const mine = ++chain;
    timer = null;
    if (!alive() || document.visibilityState === 'hidden') return;
    try {
      const { items = [] } = (await api('GET', '/stats/hot')) || {};
      const named = await Promise.all(items.map(async (it) => ({ ...it, title: await titleOf(it.document_id) })));
      if (!alive() || mine !== chain) return;
      drawHot(list, named);
      fill(updated, t('stats.hot.updated', { time: new Intl.DateTimeFormat(currentLang(), { timeStyle: 'medium' }).format(new Date()) }));
    } catch (e) {
      if (!alive()) return;
      fill(updated, t('stats.error', { message: e.message }));
    }
    // A poll still in flight when the page was hidden and shown again is not
    // its chain's latest: it schedules nothing, so only one chain polls.
    if (mine === chain && alive() && document.visibilityState !== 'hidden') timer = setTimeout(poll, HOT_POLL_MS);
  };

  // Hidden: stop (no timer left behind); visible again: refresh now, then poll.
  const onVisibility = () => {
    if (!alive()) {
      document.removeEventListener('visibilitychange', onVisibility);
      clearTimeout(timer);
      return;
    }
    clearTimeout(timer);
    timer = null;
    if (document.visibilityState !== 'hidden') poll();
  };
  document.addEventListener('visibilitychange', onVisibility);
  poll();

  return section(t('stats.hot'), h('p', { class: 'muted' }, t('stats.hot.hint')), list, updated);
}

function drawHot(list, items) {
  if (items.length === 0) {
    fill(list, h('p', { class: 'muted' }, t('stats.hot.none')));
    return;
  }
  fill(list, h('ol', { class: 'hot-list' }, items.map((it) => h('li', {},
    h('a', { href: docHash(it.document_id) }, it.title),
    ' ',
    h('span', { class: 'badge' }, t('stats.hot.rate', { rate: fmtNumber(it.rate_per_s, 1) })),
    ' ',
    h('span', { class: 'muted small' }, t('stats.hot.since'), ' ', timeEl(it.since))))));
}

// ---- departments against quota ----

function departmentsSection(alive) {
  const box = h('div', {}, loading());
  (async () => {
    let items;
    try {
      ({ items = [] } = (await api('GET', '/stats/departments')) || {});
    } catch (e) {
      if (alive()) fill(box, h('p', { class: 'error-text' }, t('stats.error', { message: e.message })));
      return;
    }
    if (!alive()) return;
    if (items.length === 0) {
      fill(box, h('p', { class: 'muted' }, t('stats.dept.none')));
      return;
    }
    fill(box, h('ul', { class: 'quota-list' }, items.map(quotaRow)));
  })();
  return section(t('stats.departments'), box);
}

function quotaRow(u) {
  const name = u.department_id === NO_DEPARTMENT ? h('span', {}, t('stats.dept.noDepartment')) : nameEl(u.department_id);
  const docs = t('stats.dept.documents', { n: fmtNumber(u.documents) });
  if (!u.quota_bytes) {
    return h('li', { class: 'quota-row' },
      h('div', { class: 'quota-head' }, h('strong', {}, name), h('span', { class: 'muted' }, docs)),
      h('p', { class: 'quota-figures' }, t('stats.dept.unlimited', { used: humanSize(u.bytes_used) })));
  }
  const ratio = u.bytes_used / u.quota_bytes;
  const pct = Math.round(ratio * 100);
  const fillBar = h('div', { class: `quota-fill${ratio >= 0.9 ? ' quota-high' : ''}` });
  fillBar.style.width = `${Math.min(100, Math.max(0, ratio * 100))}%`; // CSSOM, not a style attribute string (CSP)
  return h('li', { class: 'quota-row' },
    h('div', { class: 'quota-head' }, h('strong', {}, name), h('span', { class: 'muted' }, docs)),
    // The figures are the text; the bar repeats them for the eye only.
    h('div', { class: 'quota-bar', 'aria-hidden': 'true' }, fillBar),
    h('p', { class: 'quota-figures' }, t('stats.dept.usage', { used: humanSize(u.bytes_used), quota: humanSize(u.quota_bytes), pct: fmtNumber(pct) })));
}
