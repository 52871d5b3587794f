// Tab #/admin/users?q=&page=: find, create and edit users, disable and
// enable them, reset a password (a generated one is shown once, here only).
import { h, fill, field, selectBox, loading } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { state } from '../state.js?v=__ASSET_VERSION__';
import { go } from '../router.js?v=__ASSET_VERSION__';
import { showError, showInfo } from '../ui.js?v=__ASSET_VERSION__';
import { allDepartments, departmentOptions, pager } from './admin-common.js?v=__ASSET_VERSION__';

const PAGE_SIZE = 20;

function usersHash(q, page) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `#/admin/users?${s}` : '#/admin/users';
}

// The roles the signed-in administrator may hand out (the server checks too).
const grantableRoles = () => (state.me.role === 'admin' ? ['admin', 'dept_admin', 'member', 'reader'] : ['dept_admin', 'member', 'reader']);

// generatePassword is 16 characters without look-alikes (0/O, 1/l/I), from
// the browser's cryptographic generator: about 93 bits.
export function generatePassword(length = 16) {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const out = [];
  const buf = new Uint8Array(1);
  while (out.length < length) {
    crypto.getRandomValues(buf);
    // Rejection sampling keeps every character equally likely.
    if (buf[0] < 256 - (256 % alphabet.length)) out.push(alphabet[buf[0] % alphabet.length]);
  }
  return out.join('');
}

// passwordInput is a password field with a "generate" button; generated()
// tells whether the current value came from the button (and must be shown).
function passwordInput(name, label, required) {
  const input = h('input', { type: 'password', name, autocomplete: 'new-password', minlength: 8, required });
  let generated = '';
  const button = h('button', { type: 'button', class: 'secondary' }, t('admin.users.generate'));
  button.addEventListener('click', () => {
    generated = generatePassword();
    input.value = generated;
  });
  return {
    el: h('div', { class: 'form-row password-row' }, field(label, input), button),
    input,
    generated: () => generated !== '' && input.value === generated,
  };
}

// onceBox shows a generated password to pass on: the server never shows it again.
function onceBox(username, password) {
  return h('div', { class: 'banner banner-info once', role: 'status' },
    h('span', {}, t('admin.users.passwordOnce', { name: username }), ' ', h('code', { class: 'secret' }, password)));
}

export async function renderUsers(body, params, alive) {
  const q = (params.get('q') || '').trim();
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  const me = state.me;

  const qIn = h('input', { type: 'search', name: 'q', value: q, maxlength: 100, 'aria-label': t('admin.users.search'), placeholder: t('admin.users.searchPlaceholder') });
  const search = h('form', { class: 'search', role: 'search' }, qIn, h('button', { type: 'submit' }, t('list.submit')));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    go(usersHash(qIn.value.trim(), 1));
  });
  const listBox = h('div', { 'aria-live': 'polite' }, loading());
  const editor = h('div');
  const created = h('div');
  fill(body, search, listBox, editor, created);

  let depts;
  try {
    depts = await allDepartments();
  } catch (e) {
    if (!alive()) return;
    depts = [];
    showError(e);
  }
  if (!alive()) return;
  const deptName = new Map(depts.map((d) => [d.id, d.name]));
  const deptChoices = () => (me.role === 'admin' ? [['', t('admin.users.noDepartment')], ...departmentOptions(depts)] : departmentOptions(depts));

  const load = async (showId) => {
    const qs = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
    if (q) qs.set('q', q);
    const data = await api('GET', `/admin/users?${qs}`);
    if (!alive()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    const total = data?.total ?? items.length;
    const rows = items.map((u) => h('tr', {},
      h('td', {}, u.username),
      h('td', {}, u.display_name),
      h('td', {}, t(`role.${u.role}`)),
      h('td', {}, u.department_id ? deptName.get(u.department_id) || t('names.unknown') : '—'),
      h('td', {}, u.disabled ? h('span', { class: 'badge badge-off' }, t('admin.users.disabled')) : t('admin.users.active')),
      h('td', {}, h('button', {
        type: 'button', class: 'secondary', 'aria-label': t('admin.users.editName', { name: u.username }),
        onclick: () => openEditor(u),
      }, t('admin.users.edit')))));
    fill(listBox,
      h('p', { class: 'summary' }, t('admin.users.count', { count: total }), q ? ` ${t('list.matching', { q })}` : ''),
      items.length === 0 ? h('p', { class: 'muted' }, q ? t('list.noMatch') : t('list.none')) : h('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': t('admin.tab.users') },
        h('table', { class: 'admin-table' },
          h('caption', { class: 'visually-hidden' }, t('admin.tab.users')),
          h('thead', {}, h('tr', {}, ['login.username', 'admin.users.displayName', 'user.role', 'doc.department', 'admin.users.status', 'admin.users.actions']
            .map((k) => h('th', { scope: 'col' }, t(k))))),
          h('tbody', {}, rows))),
      pager(page, total, data?.page_size || PAGE_SIZE, (p) => usersHash(q, p)));
    const again = showId && items.find((u) => u.id === showId);
    if (again) openEditor(again, true);
  };

  // openEditor draws the edit panel of one user below the list.
  function openEditor(u, keepFocus) {
    const path = `/admin/users/${encodeURIComponent(u.id)}`;
    const name = h('input', { type: 'text', name: 'display_name', value: u.display_name, maxlength: 100, required: true });
    const roleSel = selectBox('role', grantableRoles().map((r) => [r, t(`role.${r}`)]), u.role, t('user.role'));
    const deptSel = selectBox('department_id', deptChoices(), u.department_id || '', t('doc.department'));
    const self = u.id === me.id;
    roleSel.disabled = self; // the server refuses a change of one's own role
    const save = h('form', { class: 'stack' },
      field(t('admin.users.displayName'), name), field(t('user.role'), roleSel), field(t('doc.department'), deptSel),
      h('button', { type: 'submit' }, t('manage.save')));
    save.addEventListener('submit', async (e) => {
      e.preventDefault();
      const patch = {};
      if (name.value.trim() !== u.display_name) patch.display_name = name.value.trim();
      if (!self && roleSel.value !== u.role) patch.role = roleSel.value;
      if (deptSel.value !== (u.department_id || '')) patch.department_id = deptSel.value;
      if (Object.keys(patch).length === 0) return showInfo(t('manage.nothing'));
      await act(() => api('PATCH', path, { json: patch }), t('admin.users.saved', { name: u.username }));
    });

    const toggle = h('button', { type: 'button', class: u.disabled ? '' : 'danger', disabled: self },
      u.disabled ? t('admin.users.enable') : t('admin.users.disable'));
    toggle.addEventListener('click', () => act(() => api('PATCH', path, { json: { disabled: !u.disabled } }),
      t(u.disabled ? 'admin.users.enabled' : 'admin.users.disabledDone', { name: u.username })));

    const pw = passwordInput('new_password', t('admin.users.newPassword'), true);
    const reset = h('form', { class: 'stack' }, pw.el, h('small', { class: 'muted' }, t('admin.users.resetHint')),
      h('button', { type: 'submit' }, t('admin.users.reset')));
    reset.addEventListener('submit', async (e) => {
      e.preventDefault();
      const value = pw.input.value;
      const shown = pw.generated();
      const ok = await act(() => api('PATCH', path, { json: { password: value } }), t('admin.users.resetDone', { name: u.username }));
      // act redrew the panel: the box goes into the new one.
      const slot = editor.querySelector('.once-slot');
      if (ok && shown && slot) fill(slot, onceBox(u.username, value));
    });

    const heading = h('h2', { tabindex: -1 }, t('admin.users.editTitle', { name: u.username }));
    fill(editor, h('section', { class: 'panel' }, heading,
      u.disabled ? h('p', {}, h('span', { class: 'badge badge-off' }, t('admin.users.disabled'))) : null,
      save,
      h('h3', {}, t('admin.users.access')),
      h('p', { class: 'muted' }, t('admin.users.disableHint')), toggle,
      h('h3', {}, t('admin.users.resetTitle')), reset, h('div', { class: 'once-slot' }),
      h('p', {}, h('button', { type: 'button', class: 'link', onclick: () => fill(editor) }, t('admin.users.close')))));
    if (!keepFocus) heading.focus();
    return u;
  }

  // act runs a change, announces it and redraws the list and the editor.
  async function act(f, done) {
    try {
      const u = await f();
      if (!alive()) return false;
      await load(u?.id); // the list shows the change before the banner announces it
      if (alive()) showInfo(done);
      return true;
    } catch (e) {
      if (alive()) showError(e);
      return false;
    }
  }

  fill(created, newUserPanel(deptChoices, async (u, password) => {
    await load();
    showInfo(t('admin.users.created', { name: u.username }));
    if (password) fill(created.querySelector('.once-slot'), onceBox(u.username, password));
  }));

  await load();
}

// newUserPanel is the creation form; onCreated(user, generatedPassword).
function newUserPanel(deptChoices, onCreated) {
  const username = h('input', { type: 'text', name: 'username', maxlength: 64, required: true, autocomplete: 'off' });
  const display = h('input', { type: 'text', name: 'new_display_name', maxlength: 100 });
  const pw = passwordInput('password', t('login.password'), true);
  const roleSel = selectBox('new_role', grantableRoles().map((r) => [r, t(`role.${r}`)]), 'member', t('user.role'));
  const choices = deptChoices();
  const deptSel = selectBox('new_department_id', choices, state.me.department_id || choices[0]?.[0] || '', t('doc.department'));
  const submit = h('button', { type: 'submit' }, t('admin.users.create'));
  const form = h('form', { class: 'stack' },
    field(t('login.username'), username), field(t('admin.users.displayName'), display, t('admin.users.displayNameHint')),
    pw.el, field(t('user.role'), roleSel), field(t('doc.department'), deptSel), submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    const shown = pw.generated();
    const password = pw.input.value;
    try {
      const u = await api('POST', '/admin/users', {
        json: { username: username.value.trim(), display_name: display.value.trim(), password, role: roleSel.value, department_id: deptSel.value },
      });
      form.reset();
      await onCreated(u, shown ? password : '');
    } catch (err) {
      showError(err);
    } finally {
      submit.disabled = false;
    }
  });
  return h('section', { class: 'panel' }, h('h2', {}, t('admin.users.new')), form, h('div', { class: 'once-slot' }));
}
