// Tab #/admin/audit?actor=&action=&target=&since=&until=&page=: the audit log,
// newest first, with filters, paging and a CSV export of what the filters
// select. The server shows a dept_admin its own department's entries only.
// The actor is typed as a username and found with GET /admin/users?q=;
// since and until are days in the browser's zone, until included.
import { h, fill, field, selectBox, loading, timeEl } from '../dom.js?v=__ASSET_VERSION__';
import { api, API } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { go } from '../router.js?v=__ASSET_VERSION__';
import { showError } from '../ui.js?v=__ASSET_VERSION__';
import { nameEl } from '../names.js?v=__ASSET_VERSION__';
import { pager } from './admin-common.js?v=__ASSET_VERSION__';

const PAGE_SIZE = 50;

// ACTIONS are the server's audit actions (documentation/api.md).
export const ACTIONS = [
  'auth.login', 'auth.login_failed', 'auth.logout', 'token.create', 'token.revoke',
  'document.create', 'document.update', 'document.version', 'document.delete', 'document.grants', 'document.download',
  'share.create', 'share.revoke', 'share.download', 'upload_link.create', 'upload_link.use', 'upload_link.revoke',
  'user.create', 'user.update', 'user.delete', 'department.create', 'department.update', 'department.delete',
];

// NAMED_TARGETS are the actions whose target is a user or a department, named by the directory.
const NAMED_TARGETS = /^(user|department)\./;

const FILTERS = ['actor', 'action', 'target', 'since', 'until'];

function auditHash(f, page) {
  const p = new URLSearchParams();
  for (const k of FILTERS) if (f[k]) p.set(k, f[k]);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `#/admin/audit?${s}` : '#/admin/audit';
}

// dayStart is the RFC 3339 instant a YYYY-MM-DD day starts in the browser's zone (plus days).
function dayStart(day, plus = 0) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '');
  if (!m) return '';
  return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plus).toISOString();
}

// actorId finds the user id of a typed username (exact, after trimming and
// lower-casing as the server does for ASCII); an id is taken as it is.
async function actorId(typed) {
  const d = await api('GET', `/admin/users?page_size=100&q=${encodeURIComponent(typed)}`);
  const want = typed.toLowerCase();
  const u = (d?.items || []).find((x) => x.username.toLowerCase() === want || x.id === typed);
  return u ? u.id : typed;
}

export async function renderAudit(body, params, alive) {
  const f = Object.fromEntries(FILTERS.map((k) => [k, (params.get(k) || '').trim()]));
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);

  const actor = h('input', { type: 'text', name: 'actor', value: f.actor, maxlength: 100 });
  const action = selectBox('action', [['', t('admin.audit.anyAction')], ...ACTIONS.map((a) => [a, t(`audit.${a}`)])], f.action, t('admin.audit.action'));
  const target = h('input', { type: 'text', name: 'target', value: f.target, maxlength: 100 });
  const since = h('input', { type: 'date', name: 'since', value: f.since });
  const until = h('input', { type: 'date', name: 'until', value: f.until });
  const form = h('form', { class: 'filters' },
    field(t('admin.audit.actor'), actor, t('admin.audit.actorHint')), field(t('admin.audit.action'), action),
    field(t('admin.audit.target'), target), field(t('admin.audit.since'), since), field(t('admin.audit.until'), until),
    h('div', { class: 'filter-buttons' }, h('button', { type: 'submit' }, t('admin.audit.filter')),
      h('a', { href: '#/admin/audit' }, t('list.clear'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    go(auditHash({ actor: actor.value.trim(), action: action.value, target: target.value.trim(), since: since.value, until: until.value }, 1));
  });
  const results = h('div', { 'aria-live': 'polite' }, loading());
  fill(body, h('section', { class: 'panel' }, h('h2', {}, t('admin.audit.filters')), form), results);

  const qs = new URLSearchParams({ detail: '1' });
  if (f.actor) qs.set('actor', await actorId(f.actor));
  if (!alive()) return;
  if (f.action) qs.set('action', f.action);
  if (f.target) qs.set('target', f.target);
  if (f.since) qs.set('since', dayStart(f.since));
  if (f.until) qs.set('until', dayStart(f.until, 1)); // the whole "until" day
  const csv = new URLSearchParams(qs);
  csv.delete('detail');
  csv.set('format', 'csv');
  qs.set('page', String(page));
  qs.set('page_size', String(PAGE_SIZE));

  let data;
  try {
    data = await api('GET', `/admin/audit?${qs}`);
  } catch (e) {
    if (!alive()) return;
    fill(results, h('p', { class: 'muted' }, t('list.none')));
    showError(e);
    return;
  }
  if (!alive()) return;
  const items = Array.isArray(data?.items) ? data.items : [];
  const total = data?.total ?? items.length;
  const rows = items.map((e) => h('tr', {},
    h('td', {}, timeEl(e.at)),
    h('td', {}, e.actor_id ? nameEl(e.actor_id) : t('admin.audit.noActor')),
    h('td', {}, h('span', { title: e.action }, t(`audit.${e.action}`))),
    h('td', { class: 'wrap' }, NAMED_TARGETS.test(e.action) ? [nameEl(e.target), ' '] : null,
      h('code', { class: 'id' }, e.target || '—'), detailText(e.detail)),
    h('td', {}, e.ip || '—')));
  fill(results,
    h('p', { class: 'summary' }, t('admin.audit.count', { count: total }), ' · ',
      h('a', { href: `${API}/admin/audit?${csv}`, download: 'audit.csv', class: 'csv-link' }, t('admin.audit.csv'))),
    items.length === 0 ? h('p', { class: 'muted' }, t('admin.audit.empty')) : h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('admin.tab.audit') },
      h('table', { class: 'admin-table' },
        h('caption', { class: 'visually-hidden' }, t('admin.tab.audit')),
        h('thead', {}, h('tr', {}, ['admin.audit.at', 'admin.audit.actor', 'admin.audit.action', 'admin.audit.target', 'admin.audit.ip']
          .map((k) => h('th', { scope: 'col' }, t(k))))),
        h('tbody', {}, rows))),
    pager(page, total, data?.page_size || PAGE_SIZE, (p) => auditHash(f, p)));
}

// detailText is an entry's detail (old and new values, a name) as one short line of text.
function detailText(detail) {
  if (!detail || typeof detail !== 'object' || Object.keys(detail).length === 0) return null;
  let s;
  try {
    s = JSON.stringify(detail);
  } catch {
    return null;
  }
  return h('small', { class: 'detail muted' }, s.length > 160 ? `${s.slice(0, 159)}…` : s);
}
