// Tab #/admin/departments: the department tree with each one's usage against
// its quota (GET /stats/departments), and create, rename, set the quota,
// delete. A dept_admin sees its own department and may change nothing here
// (the server allows departments to admins only).
import { h, fill, field, selectBox, loading } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize } from '../i18n.js?v=__ASSET_VERSION__';
import { state } from '../state.js?v=__ASSET_VERSION__';
import { rerender } from '../router.js?v=__ASSET_VERSION__';
import { showError, showInfo } from '../ui.js?v=__ASSET_VERSION__';
import { allDepartments, treeOrder, departmentOptions } from './admin-common.js?v=__ASSET_VERSION__';

const MB = 1024 * 1024;
const GB = 1024 * MB;
const NO_DEPARTMENT = 'none'; // the usage bucket of users without a department

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...children);
  return el;
}

// usageBar is an inline SVG bar of used against quota, named by its figures.
export function usageBar(used, quota) {
  const text = quota > 0
    ? t('admin.dept.usage', { used: humanSize(used), quota: humanSize(quota), pct: Math.round((used / quota) * 100) })
    : t('admin.dept.usageUnlimited', { used: humanSize(used) });
  const frac = quota > 0 ? Math.min(1, used / quota) : 0;
  const level = frac >= 0.9 ? 'full' : frac >= 0.7 ? 'high' : 'ok';
  const bar = svg('svg', { class: `usage-bar usage-${level}`, viewBox: '0 0 100 8', preserveAspectRatio: 'none', role: 'img', 'aria-label': text },
    svg('rect', { class: 'usage-track', x: 0, y: 0, width: 100, height: 8, rx: 2 }),
    svg('rect', { class: 'usage-fill', x: 0, y: 0, width: (frac * 100).toFixed(2), height: 8, rx: 2 }));
  return h('div', { class: 'usage' }, quota > 0 ? bar : null, h('span', { class: 'usage-text' }, text));
}

// quotaInput is a number with a unit (MB or GB); bytes() reads it, null when invalid.
function quotaInput(name, bytes) {
  const inGB = bytes > 0 && bytes % GB === 0;
  const num = h('input', { type: 'number', name, min: 0, step: 'any', value: String(bytes ? bytes / (inGB ? GB : MB) : 0), required: true });
  const unit = selectBox(`${name}_unit`, [['mb', 'MB'], ['gb', 'GB']], inGB ? 'gb' : 'mb', t('admin.dept.quotaUnit'));
  return {
    el: h('div', { class: 'form-row quota-row' }, field(t('admin.dept.quota'), num, t('admin.dept.quotaHint')), unit),
    bytes: () => {
      const n = Number(num.value);
      return Number.isFinite(n) && n >= 0 ? Math.round(n * (unit.value === 'gb' ? GB : MB)) : null;
    },
  };
}

export async function renderDepartments(body, params, alive) {
  fill(body, loading());
  const isAdmin = state.me.role === 'admin';
  const [depts, usage] = await Promise.all([allDepartments(), api('GET', '/stats/departments').catch((e) => {
    showError(e); // the tree is still worth showing without the figures
    return null;
  })]);
  if (!alive()) return;
  const used = new Map((usage?.items || []).map((u) => [u.department_id, u]));
  const children = new Set(depts.map((d) => d.parent_id).filter(Boolean));

  const items = treeOrder(depts).map(({ dept, depth }) => {
    const u = used.get(dept.id);
    const row = h('li', { class: `dept depth-${Math.min(depth, 6)}` },
      h('div', { class: 'dept-head' },
        h('span', { class: 'dept-name' }, dept.name),
        h('span', { class: 'muted' }, t('admin.dept.documents', { count: u?.documents ?? 0 }))),
      usageBar(u?.bytes_used ?? dept.bytes_used ?? 0, dept.quota_bytes));
    if (isAdmin) row.append(editControls(dept, children.has(dept.id)));
    return row;
  });
  const none = used.get(NO_DEPARTMENT);
  const noneRow = none ? h('li', { class: 'dept' },
    h('div', { class: 'dept-head' }, h('span', { class: 'dept-name' }, t('admin.dept.none')),
      h('span', { class: 'muted' }, t('admin.dept.documents', { count: none.documents }))),
    usageBar(none.bytes_used, none.quota_bytes), h('small', { class: 'muted' }, t('admin.dept.noneHint'))) : null;

  fill(body,
    h('section', { class: 'panel' }, h('h2', {}, t('admin.dept.tree')),
      depts.length === 0 ? h('p', { class: 'muted' }, t('admin.dept.empty')) : null,
      h('ul', { class: 'dept-tree', 'aria-label': t('admin.dept.tree') }, items, noneRow)),
    isAdmin ? createPanel(depts) : h('p', { class: 'muted' }, t('admin.dept.adminsOnly')));
}

// editControls are one department's rename, quota and delete forms, folded.
function editControls(dept, hasChildren) {
  const path = `/admin/departments/${encodeURIComponent(dept.id)}`;
  const name = h('input', { type: 'text', name: `name_${dept.id}`, value: dept.name, maxlength: 100, required: true });
  const quota = quotaInput(`quota_${dept.id}`, dept.quota_bytes);
  const save = h('form', { class: 'stack' }, field(t('admin.dept.name'), name), quota.el, h('button', { type: 'submit' }, t('manage.save')));
  save.addEventListener('submit', async (e) => {
    e.preventDefault();
    const patch = {};
    const bytes = quota.bytes();
    if (bytes === null) return showError(t('admin.dept.badQuota'));
    if (name.value.trim() !== dept.name) patch.name = name.value.trim();
    if (bytes !== dept.quota_bytes) patch.quota_bytes = bytes;
    if (Object.keys(patch).length === 0) return showInfo(t('manage.nothing'));
    try {
      await api('PATCH', path, { json: patch });
      await rerender();
      showInfo(t('admin.dept.saved', { name: patch.name || dept.name }));
    } catch (err) {
      showError(err);
    }
  });
  const del = h('button', { type: 'button', class: 'danger' }, t('admin.dept.delete'));
  del.addEventListener('click', async () => {
    if (!confirm(t('admin.dept.confirmDelete', { name: dept.name }))) return;
    try {
      await api('DELETE', path);
      await rerender();
      showInfo(t('admin.dept.deleted', { name: dept.name }));
    } catch (err) {
      // 409: users, documents or sub-departments are still there; say which to move.
      showError(err.status === 409 ? t('admin.dept.deleteConflict', { name: dept.name }) : err);
    }
  });
  return h('details', { class: 'dept-edit' },
    h('summary', {}, t('admin.dept.change', { name: dept.name })),
    save, hasChildren ? h('p', { class: 'muted' }, t('admin.dept.hasChildren')) : null, del);
}

function createPanel(depts) {
  const name = h('input', { type: 'text', name: 'new_department', maxlength: 100, required: true });
  const parent = selectBox('parent_id', [['', t('admin.dept.noParent')], ...departmentOptions(depts)], '', t('admin.dept.parent'));
  const quota = quotaInput('new_quota', 0);
  const submit = h('button', { type: 'submit' }, t('admin.dept.create'));
  const form = h('form', { class: 'stack' }, field(t('admin.dept.name'), name), field(t('admin.dept.parent'), parent), quota.el, submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const bytes = quota.bytes();
    if (bytes === null) return showError(t('admin.dept.badQuota'));
    submit.disabled = true;
    try {
      const d = await api('POST', '/admin/departments', { json: { name: name.value.trim(), parent_id: parent.value || undefined, quota_bytes: bytes } });
      await rerender();
      showInfo(t('admin.dept.created', { name: d.name }));
    } catch (err) {
      submit.disabled = false;
      showError(err);
    }
  });
  return h('section', { class: 'panel' }, h('h2', {}, t('admin.dept.new')), form);
}
