// What the administration tabs share: every department, the tree order,
// the department choice and the pager.
import { h } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';

// allDepartments reads every department (the API pages at most 100).
export async function allDepartments() {
  const out = [];
  for (let page = 1; page <= 1000; page++) {
    const d = await api('GET', `/admin/departments?page=${page}&page_size=100`);
    const items = Array.isArray(d?.items) ? d.items : [];
    out.push(...items);
    if (items.length === 0 || out.length >= (d?.total ?? 0)) break;
  }
  return out;
}

// treeOrder is departments depth-first under their parents (roots and
// orphans first), each with its depth, names sorted within a level.
export function treeOrder(depts) {
  const byParent = new Map();
  const ids = new Set(depts.map((d) => d.id));
  for (const d of depts) {
    const parent = d.parent_id && ids.has(d.parent_id) ? d.parent_id : '';
    if (!byParent.has(parent)) byParent.set(parent, []);
    byParent.get(parent).push(d);
  }
  const out = [];
  const seen = new Set();
  const walk = (parent, depth) => {
    const kids = (byParent.get(parent) || []).slice().sort((a, b) => a.name.localeCompare(b.name));
    for (const d of kids) {
      if (seen.has(d.id)) continue; // a cycle from a hand-edited database
      seen.add(d.id);
      out.push({ dept: d, depth });
      walk(d.id, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

// departmentOptions are [id, label] pairs for a select, indented by depth.
export function departmentOptions(depts) {
  return treeOrder(depts).map(({ dept, depth }) => [dept.id, `${'\u00a0\u00a0'.repeat(depth)}${dept.name}`]);
}

// pager draws previous/next links for a paged list.
export function pager(page, total, size, hashFor) {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages <= 1) return null;
  return h('nav', { class: 'pager', 'aria-label': t('list.pages') },
    page > 1 ? h('a', { href: hashFor(page - 1), rel: 'prev' }, t('list.prev')) : null,
    h('span', {}, t('list.page', { page, pages })),
    page < pages ? h('a', { href: hashFor(page + 1), rel: 'next' }, t('list.next')) : null);
}
