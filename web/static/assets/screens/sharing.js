// The Sharing panel of the document screen (#/doc/<id>), for callers holding
// manage (GET .../permission, asked by screens/document.js): grants to users
// and departments, and share links. Should the grants still be refused
// (403: a grant expired meanwhile), the panel takes itself out of the page.
import { h, fill, field, section, loading, timeEl, selectBox } from '../dom.js?v=__ASSET_VERSION__';
import { api, request, readJSON } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { state, flash } from '../state.js?v=__ASSET_VERSION__';
import { rerender, docPath } from '../router.js?v=__ASSET_VERSION__';
import { nameEl } from '../names.js?v=__ASSET_VERSION__';
import { showError, showInfo, clearBanner, reloadOnConflict } from '../ui.js?v=__ASSET_VERSION__';

const PERMISSIONS = ['read', 'write', 'manage'];

// LIFETIMES are the offered lifetimes of a link, in seconds (the API takes 60 s to one year).
export const LIFETIMES = [['3600', 'life.hour'], ['86400', 'life.day'], ['604800', 'life.week'],
  ['2592000', 'life.month'], ['31536000', 'life.year']];

export function lifetimeSelect(value = '604800') {
  return selectBox('expires_in_s', LIFETIMES.map(([s, key]) => [s, t(key)]), value, t('share.expiresIn'));
}

// linkBox shows a link's full URL once, right after it was made (the API
// never lists the token again), with a button copying it to the clipboard.
export function linkBox(path, heading) {
  const url = new URL(path, location.origin).href;
  const input = h('input', { type: 'text', name: 'link_url', value: url, readonly: true });
  const said = h('span', { class: 'muted', role: 'status' });
  const copy = h('button', { type: 'button' }, t('share.copy'));
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(url);
      said.textContent = t('share.copied');
    } catch {
      // No clipboard access (an insecure origin, a refused permission): select it for Ctrl+C.
      input.focus();
      input.select();
      said.textContent = t('share.copyByHand');
    }
  });
  return h('div', { class: 'link-box', role: 'group', 'aria-label': heading },
    h('p', {}, h('strong', {}, heading), ' ', t('share.onlyOnce')),
    field(t('share.url'), input),
    h('div', { class: 'form-row' }, copy, said));
}

// sharingPanel returns the panel's section, filled once the grants are
// read; it removes itself when the caller may not manage the document.
export function sharingPanel(doc, alive) {
  const grantsBox = h('div', {}, loading());
  const sharesBox = h('div', {});
  const panel = section(t('share.title'), grantsBox, sharesBox);
  panel.hidden = true;
  if (!state.me) return panel;
  api('GET', `${docPath(doc.id)}/grants`).then((data) => {
    if (!alive()) return;
    panel.hidden = false;
    fill(grantsBox, grantEditor(doc, data?.items || [], alive));
    fill(sharesBox, shareLinks(doc, alive));
  }).catch((e) => {
    if (!alive()) return;
    if (e.status === 403 || e.status === 401 || e.status === 404) {
      panel.remove();
      return;
    }
    panel.hidden = false;
    fill(grantsBox, h('p', { class: 'error-text' }, t('share.loadError', { message: e.message })));
  });
  return panel;
}

// localInput is an RFC 3339 time as a datetime-local input's value, in the browser's zone.
function localInput(s) {
  if (!s) return '';
  const d = new Date(s);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

// grantEditor edits the set of grants locally; Save replaces it with PUT,
// If-Match naming the document's revision, so a set changed by someone else
// meanwhile is not overwritten: on 412 the newer set is shown instead.
function grantEditor(doc, items, alive) {
  let rows = items.map((g) => ({ ...g }));
  let revision = doc.revision;
  const list = h('div', {});
  const saveBtn = h('button', { type: 'button' }, t('share.save'));

  const principalName = (p, i) => {
    const [kind, id] = String(p).split(':');
    return h('span', { id: `grant-who-${i}` }, h('span', { class: 'badge' }, t(kind === 'department' ? 'share.kindDepartment' : 'share.kindUser')), ' ', nameEl(id));
  };

  const draw = () => {
    if (!rows.length) {
      fill(list, h('p', { class: 'muted' }, t('share.noGrants')));
      return;
    }
    fill(list, h('ul', { class: 'grants' }, rows.map((g, i) => {
      const who = principalName(g.principal, i);
      // Each row's controls are described by the row's person: "Permission, 李老师".
      const about = { 'aria-describedby': `grant-who-${i}` };
      const perm = selectBox(`permission-${i}`, PERMISSIONS.map((p) => [p, t(`perm.${p}`)]), g.permission, t('share.permission'));
      perm.addEventListener('change', () => {
        g.permission = perm.value;
      });
      perm.setAttribute('aria-describedby', about['aria-describedby']);
      const exp = h('input', { type: 'datetime-local', name: `expires-${i}`, value: localInput(g.expires_at), ...about });
      exp.addEventListener('change', () => {
        g.expires_at = exp.value ? new Date(exp.value).toISOString() : null;
      });
      const expired = g.expires_at && new Date(g.expires_at) <= new Date();
      const remove = h('button', { type: 'button', class: 'secondary', ...about }, t('share.remove'));
      remove.addEventListener('click', () => {
        rows.splice(i, 1);
        draw();
        saveBtn.focus();
      });
      const li = h('li', { class: 'grant' },
        who,
        expired ? h('span', { class: 'badge' }, t('share.expired')) : null,
        field(t('share.permission'), perm),
        field(t('share.expiresAt'), exp, t('share.expiresHint')),
        remove);
      return li;
    })));
  };

  saveBtn.addEventListener('click', async () => {
    clearBanner();
    saveBtn.disabled = true;
    try {
      const res = await request('PUT', `${docPath(doc.id)}/grants`, {
        json: { items: rows.map(({ principal, permission, expires_at: e }) => ({ principal, permission, expires_at: e || null })) },
        headers: { 'If-Match': `"r${revision}"` },
      });
      readJSON(res.status, await res.text());
      if (!alive()) return;
      // The save changed the document's revision: draw the page again so every form is current.
      flash('info', t('share.saved'));
      rerender();
    } catch (err) {
      await reloadOnConflict(err, alive, async () => {
        const [fresh, grants] = await Promise.all([
          api('GET', docPath(doc.id)),
          api('GET', `${docPath(doc.id)}/grants`),
        ]);
        if (!alive()) return false;
        revision = fresh.revision;
        rows = (grants?.items || []).map((g) => ({ ...g }));
        draw();
        return true;
      }, t('share.changed'));
    } finally {
      saveBtn.disabled = false;
    }
  });

  draw();
  return h('div', {},
    h('h3', {}, t('share.grants')),
    list,
    addGrantForm((g) => {
      const at = rows.findIndex((r) => r.principal === g.principal);
      if (at >= 0) rows[at] = g;
      else rows.push(g);
      draw();
    }),
    h('div', { class: 'form-row' }, saveBtn, h('span', { class: 'muted' }, t('share.saveHint'))));
}

// addGrantForm adds a user (by exact username: GET /directory?username=, the
// lookup any member may make) or a department (the caller's own, and those an
// administrator's lists show) to the set being edited.
function addGrantForm(onAdd) {
  const kind = selectBox('kind', [['user', t('share.kindUser')], ['department', t('share.kindDepartment')]], 'user', t('share.kind'));
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'off' });
  const userField = field(t('share.username'), username, t('share.usernameHint'));
  const dept = h('select', { name: 'department' });
  const deptField = field(t('share.department'), dept);
  deptField.hidden = true;
  const perm = selectBox('permission', PERMISSIONS.map((p) => [p, t(`perm.${p}`)]), 'read', t('share.permission'));
  const exp = h('input', { type: 'datetime-local', name: 'expires_at' });
  const addBtn = h('button', { type: 'submit', class: 'secondary' }, t('share.add'));

  let departmentsLoaded = false;
  const loadDepartments = async () => {
    if (departmentsLoaded) return;
    departmentsLoaded = true;
    const seen = new Map();
    if (state.me?.department_id) seen.set(state.me.department_id, null);
    if (state.me?.role === 'admin' || state.me?.role === 'dept_admin') {
      try {
        const d = await api('GET', '/admin/departments?page_size=100');
        for (const dep of d?.items || []) seen.set(dep.id, dep.name);
      } catch {
        // Only the caller's own department then.
      }
    }
    fill(dept, [...seen].map(([id, name]) => h('option', { value: id }, name || '…')));
    // Names of departments known only by id (the caller's own, for a member).
    const unnamed = [...seen].filter(([, name]) => !name).map(([id]) => id);
    if (unnamed.length) {
      try {
        const d = await api('GET', `/directory?ids=${unnamed.map(encodeURIComponent).join(',')}`);
        for (const opt of dept.options) {
          if (d?.departments?.[opt.value]) opt.textContent = d.departments[opt.value];
        }
      } catch {
        for (const opt of dept.options) if (opt.textContent === '…') opt.textContent = t('names.unknown');
      }
    }
    if (!dept.options.length) fill(dept, h('option', { value: '' }, t('share.noDepartments')));
  };

  kind.addEventListener('change', () => {
    const isUser = kind.value === 'user';
    userField.hidden = !isUser;
    deptField.hidden = isUser;
    if (!isUser) loadDepartments();
  });

  const form = h('form', { class: 'add-grant' },
    h('h4', {}, t('share.addTitle')),
    field(t('share.kind'), kind), userField, deptField,
    field(t('share.permission'), perm),
    field(t('share.expiresAt'), exp, t('share.expiresHint')),
    addBtn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanner();
    let principal;
    if (kind.value === 'user') {
      const name = username.value.trim();
      if (!name) {
        showError(t('share.needUsername'));
        return;
      }
      addBtn.disabled = true;
      try {
        const d = await api('GET', `/directory?username=${encodeURIComponent(name)}`);
        const id = Object.keys(d?.users || {})[0];
        if (!id) {
          showError(t('share.noSuchUser', { name }));
          return;
        }
        principal = `user:${id}`;
      } catch (err) {
        showError(err);
        return;
      } finally {
        addBtn.disabled = false;
      }
    } else {
      if (!dept.value) {
        showError(t('share.noDepartments'));
        return;
      }
      principal = `department:${dept.value}`;
    }
    onAdd({ principal, permission: perm.value, expires_at: exp.value ? new Date(exp.value).toISOString() : null });
    username.value = '';
    showInfo(t('share.addedUnsaved'));
  });
  return form;
}

// shareLinks creates, lists and revokes the document's share links.
function shareLinks(doc, alive) {
  const listBox = h('div', {}, loading());
  const created = h('div', {});
  const life = lifetimeSelect();
  const password = h('input', { type: 'password', name: 'share_password', autocomplete: 'new-password' });
  const maxDownloads = h('input', { type: 'number', name: 'max_downloads', min: 1, step: 1, inputmode: 'numeric' });
  const createBtn = h('button', { type: 'submit' }, t('share.createLink'));
  const form = h('form', { class: 'share-form' },
    field(t('share.expiresIn'), life),
    field(t('share.password'), password, t('share.optional')),
    field(t('share.maxDownloads'), maxDownloads, t('share.optionalNoLimit')),
    createBtn);

  const load = async () => {
    try {
      const data = await api('GET', `${docPath(doc.id)}/shares`);
      if (!alive()) return;
      fill(listBox, linkTable(data?.items || []));
    } catch (e) {
      if (alive()) fill(listBox, h('p', { class: 'error-text' }, t('share.loadError', { message: e.message })));
    }
  };

  const linkTable = (items) => {
    if (!items.length) return h('p', { class: 'muted' }, t('share.noLinks'));
    const now = new Date();
    const status = (l) => {
      if (l.revoked) return t('share.revoked');
      if (new Date(l.expires_at) <= now) return t('share.expired');
      if (l.max_downloads != null && l.downloads >= l.max_downloads) return t('share.usedUp');
      return t('share.active');
    };
    return h('div', { class: 'table-wrap' }, h('table', { class: 'links' },
      h('caption', { class: 'visually-hidden' }, t('share.links')),
      h('thead', {}, h('tr', {},
        [t('share.created'), t('share.expires'), t('share.downloads'), t('share.password'), t('share.status'), t('share.actions')]
          .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((l) => {
        const active = !l.revoked && new Date(l.expires_at) > now;
        const revoke = active ? h('button', { type: 'button', class: 'danger', 'aria-label': t('share.revokeLabel', { time: timeEl(l.created_at).textContent }) }, t('share.revoke')) : null;
        revoke?.addEventListener('click', async () => {
          if (!confirm(t('share.confirmRevoke'))) return;
          revoke.disabled = true;
          try {
            await api('DELETE', `/shares/${encodeURIComponent(l.id)}`);
            if (!alive()) return;
            showInfo(t('share.revokedDone'));
            fill(created);
            await load();
          } catch (err) {
            showError(err);
            revoke.disabled = false;
          }
        });
        return h('tr', { 'data-link': l.id },
          h('td', {}, timeEl(l.created_at)),
          h('td', {}, timeEl(l.expires_at)),
          h('td', {}, l.max_downloads != null ? t('share.countOf', { n: l.downloads, max: l.max_downloads }) : String(l.downloads)),
          h('td', {}, l.has_password ? t('share.yes') : t('share.no')),
          h('td', { class: 'link-status' }, status(l)),
          h('td', {}, revoke));
      }))));
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanner();
    const body = { expires_in_s: Number(life.value) };
    if (password.value) body.password = password.value;
    if (maxDownloads.value) body.max_downloads = Number(maxDownloads.value);
    createBtn.disabled = true;
    try {
      const link = await api('POST', `${docPath(doc.id)}/shares`, { json: body });
      if (!alive()) return;
      password.value = '';
      maxDownloads.value = '';
      fill(created, linkBox(link.url, t('share.linkMade')));
      await load();
      created.querySelector('button')?.focus();
    } catch (err) {
      showError(err);
    } finally {
      createBtn.disabled = false;
    }
  });

  load();
  return h('div', {}, h('h3', {}, t('share.links')), form, created, listBox);
}
