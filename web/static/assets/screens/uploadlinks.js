// Screen #/upload-links: links through which people without an account
// (parents, students) send files to the caller. Each received file becomes a
// private document of the caller tagged upload-link:<id>, which is how the
// "received" link finds them. Members and above; readers may not upload.
import { h, fill, field, section, loading, timeEl, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize } from '../i18n.js?v=__ASSET_VERSION__';
import { state } from '../state.js?v=__ASSET_VERSION__';
import { listHash } from '../router.js?v=__ASSET_VERSION__';
import { showError, showInfo, clearBanner, parseTags, loginLink } from '../ui.js?v=__ASSET_VERSION__';
import { lifetimeSelect, linkBox } from './sharing.js?v=__ASSET_VERSION__';

const MB = 1024 * 1024;

export const mayCreateUploadLinks = (me) => Boolean(me) && ['admin', 'dept_admin', 'member'].includes(me.role);

export async function renderUploadLinks(view, alive) {
  setTitle(t('ulink.title'));
  if (!state.me) {
    fill(view, h('h1', {}, t('ulink.title')), h('p', {}, loginLink(t('user.login')), t('ulink.loginFirst')));
    return;
  }
  if (!mayCreateUploadLinks(state.me)) {
    fill(view, h('h1', {}, t('ulink.title')), h('p', {}, t('ulink.notAllowed')));
    return;
  }
  const listBox = h('div', {}, loading());
  const created = h('div', {});
  const load = async () => {
    try {
      const data = await api('GET', '/upload-links');
      if (alive()) fill(listBox, linkList(data?.items || [], load));
    } catch (e) {
      if (alive()) fill(listBox, h('p', { class: 'error-text' }, t('ulink.loadError', { message: e.message })));
    }
  };
  fill(view,
    h('h1', {}, t('ulink.title')),
    h('p', { class: 'muted' }, t('ulink.intro')),
    section(t('ulink.create'), createForm(created, load, alive), created),
    section(t('ulink.yours'), listBox));
  await load();
}

function createForm(created, load, alive) {
  const title = h('input', { type: 'text', name: 'title', required: true, maxlength: 500 });
  const tags = h('input', { type: 'text', name: 'tags' });
  const life = lifetimeSelect();
  const password = h('input', { type: 'password', name: 'link_password', autocomplete: 'new-password' });
  const maxFiles = h('input', { type: 'number', name: 'max_files', min: 1, max: 10000, step: 1, value: '10', required: true, inputmode: 'numeric' });
  const maxFileMB = h('input', { type: 'number', name: 'max_file_mb', min: 1, step: 1, inputmode: 'numeric' });
  const maxTotalMB = h('input', { type: 'number', name: 'max_total_mb', min: 1, step: 1, inputmode: 'numeric' });
  const btn = h('button', { type: 'submit' }, t('ulink.createButton'));
  const form = h('form', { class: 'ulink-form' },
    field(t('common.title'), title, t('ulink.titleHint')),
    field(t('common.tags'), tags, t('common.tagsHint')),
    field(t('share.expiresIn'), life),
    field(t('share.password'), password, t('share.optional')),
    field(t('ulink.maxFiles'), maxFiles),
    field(t('ulink.maxFileMB'), maxFileMB, t('ulink.optionalServerLimit')),
    field(t('ulink.maxTotalMB'), maxTotalMB, t('ulink.optionalTotal')),
    btn);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearBanner();
    const body = {
      title: title.value.trim(),
      tags: parseTags(tags.value),
      expires_in_s: Number(life.value),
      max_files: Number(maxFiles.value),
    };
    if (password.value) body.password = password.value;
    if (maxFileMB.value) body.max_file_bytes = Math.round(Number(maxFileMB.value) * MB);
    if (maxTotalMB.value) body.max_total_bytes = Math.round(Number(maxTotalMB.value) * MB);
    btn.disabled = true;
    try {
      const link = await api('POST', '/upload-links', { json: body });
      if (!alive()) return;
      form.reset();
      maxFiles.value = '10';
      fill(created, linkBox(link.url, t('ulink.made', { title: link.title })));
      await load();
      created.querySelector('button')?.focus();
    } catch (err) {
      showError(err);
    } finally {
      btn.disabled = false;
    }
  });
  return form;
}

function linkList(items, load) {
  if (!items.length) return h('p', { class: 'muted' }, t('ulink.none'));
  const now = new Date();
  const status = (l) => {
    if (l.revoked) return t('share.revoked');
    if (new Date(l.expires_at) <= now) return t('share.expired');
    if (l.files >= l.max_files || l.bytes >= l.max_total_bytes) return t('share.usedUp');
    return t('share.active');
  };
  return h('ul', { class: 'ulinks' }, items.map((l) => {
    const active = !l.revoked && new Date(l.expires_at) > now;
    const revoke = active ? h('button', { type: 'button', class: 'danger', 'aria-label': t('ulink.revokeLabel', { title: l.title }) }, t('share.revoke')) : null;
    revoke?.addEventListener('click', async () => {
      if (!confirm(t('ulink.confirmRevoke', { title: l.title }))) return;
      revoke.disabled = true;
      try {
        await api('DELETE', `/upload-links/${encodeURIComponent(l.id)}`);
        showInfo(t('ulink.revoked', { title: l.title }));
        await load();
      } catch (err) {
        showError(err);
        revoke.disabled = false;
      }
    });
    const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    return h('li', { class: 'ulink', 'data-link': l.id },
      h('h3', {}, l.title),
      h('dl', { class: 'meta-grid' },
        row(t('share.status'), status(l)),
        row(t('share.expires'), timeEl(l.expires_at)),
        row(t('ulink.files'), t('share.countOf', { n: l.files, max: l.max_files })),
        row(t('ulink.bytes'), t('share.countOf', { n: humanSize(l.bytes), max: humanSize(l.max_total_bytes) })),
        row(t('ulink.perFile'), humanSize(l.max_file_bytes)),
        row(t('share.password'), l.has_password ? t('share.yes') : t('share.no')),
        (l.tags || []).length ? row(t('common.tags'), l.tags.join(', ')) : null),
      h('div', { class: 'form-row' },
        h('a', { class: 'button secondary', href: listHash({ tag: `upload-link:${l.id}` }) }, t('ulink.received', { n: l.files })),
        revoke));
  }));
}
