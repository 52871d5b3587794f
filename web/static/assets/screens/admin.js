// Screen #/admin[/users|/departments|/audit]: administration for admins and
// dept_admins (the server scopes a dept_admin to its department; this screen
// only leaves out what it could not do). Everyone else gets "not allowed".
// The tabs live in admin-users.js, admin-departments.js and admin-audit.js;
// this module draws the heading, the tabs and the first-run guidance.
import { h, fill, field, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { state, flash } from '../state.js?v=__ASSET_VERSION__';
import { go } from '../router.js?v=__ASSET_VERSION__';
import { loginLink, showError } from '../ui.js?v=__ASSET_VERSION__';
import { renderUsers } from './admin-users.js?v=__ASSET_VERSION__';
import { renderDepartments } from './admin-departments.js?v=__ASSET_VERSION__';
import { renderAudit } from './admin-audit.js?v=__ASSET_VERSION__';

const TABS = [
  ['users', renderUsers],
  ['departments', renderDepartments],
  ['audit', renderAudit],
];

export const isAdministrator = (me) => Boolean(me && (me.role === 'admin' || me.role === 'dept_admin'));

export async function renderAdmin(view, params, alive, tab = 'users') {
  setTitle(t('admin.title'));
  if (!isAdministrator(state.me)) {
    fill(view, h('h1', {}, t('admin.notAllowed')),
      h('p', {}, state.me ? t('admin.notAllowedText') : [t('admin.needLogin'), ' ', loginLink(t('user.login'))]),
      h('p', {}, h('a', { href: '#/' }, t('common.backToDocuments'))));
    return;
  }
  const nav = h('nav', { class: 'tabs', 'aria-label': t('admin.sections') },
    TABS.map(([name]) => h('a', { href: `#/admin/${name}`, 'aria-current': name === tab ? 'page' : null }, t(`admin.tab.${name}`))));
  const body = h('div', { class: 'admin-body' });
  fill(view, h('h1', {}, t(`admin.tab.${tab}`)), firstRun(), nav, body);
  const render = TABS.find(([name]) => name === tab)[1];
  await render(body, params, alive);
}

// firstRun explains, to an admin without a department, why its
// department-visible uploads reach nobody, and fixes it in one click.
function firstRun() {
  const me = state.me;
  if (me.role !== 'admin' || me.department_id) return null;
  const name = h('input', { type: 'text', name: 'first_department', value: t('admin.firstRun.defaultName'), maxlength: 100, required: true });
  const button = h('button', { type: 'submit' }, t('admin.firstRun.create'));
  const form = h('form', { class: 'form-row' }, field(t('admin.dept.name'), name), button);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const dept = await api('POST', '/admin/departments', { json: { name: name.value.trim(), quota_bytes: 0 } });
      await api('PATCH', `/admin/users/${encodeURIComponent(me.id)}`, { json: { department_id: dept.id } });
      state.me = await api('GET', '/me');
      flash('info', t('admin.firstRun.done', { name: dept.name }));
      go('#/admin/departments');
    } catch (err) {
      button.disabled = false;
      showError(err);
    }
  });
  return h('section', { class: 'panel first-run', 'aria-labelledby': 'first-run-title' },
    h('h2', { id: 'first-run-title' }, t('admin.firstRun.title')),
    h('p', {}, t('admin.firstRun.text')), form);
}
