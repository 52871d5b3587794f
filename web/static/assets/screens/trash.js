// Screen #/trash?page=: the caller's deleted documents (a dept_admin also sees its
// department's, an admin everyone's), newest deletion first, with when they
// were deleted, by whom and when they will be purged; each can be restored
// or deleted forever (after a confirmation); 50 a page, with the list's
// pager. GET /api/v1/trash,
// POST /api/v1/documents/{id}/restore, DELETE /api/v1/trash/{id}.
import { h, fill, loading, timeEl, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize } from '../i18n.js?v=__ASSET_VERSION__';
import { state } from '../state.js?v=__ASSET_VERSION__';
import { docPath } from '../router.js?v=__ASSET_VERSION__';
import { showError, showInfo, visBadge, loginLink, pager } from '../ui.js?v=__ASSET_VERSION__';
import { nameEl } from '../names.js?v=__ASSET_VERSION__';

const PAGE_SIZE = 50;

// restoreDocument takes a document out of the trash; the answer is the document.
export function restoreDocument(id) {
  return api('POST', `${docPath(id)}/restore`);
}

export async function renderTrash(view, params, alive) {
  setTitle(t('trash.title'));
  if (!state.me) {
    fill(view, h('h1', {}, t('trash.title')), h('p', {}, loginLink(t('user.login')), t('trash.loginFirst')));
    return;
  }
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  const listBox = h('div', { 'aria-live': 'polite' }, loading());
  fill(view, h('h1', {}, t('trash.title')), h('p', { class: 'muted' }, t('trash.intro')), listBox);
  const load = async () => {
    let data;
    try {
      data = await api('GET', `/trash?page=${page}&page_size=${PAGE_SIZE}`);
    } catch (e) {
      if (alive()) fill(listBox, h('p', { class: 'error-text' }, t('trash.loadError', { message: e.message })));
      return;
    }
    if (!alive()) return;
    const items = Array.isArray(data?.items) ? data.items : [];
    const total = Number.isFinite(data?.total) ? data.total : items.length;
    const size = data?.page_size || PAGE_SIZE;
    const nav = pager(page, total, size, trashHash);
    if (!items.length) {
      // Past the end (the last item of the last page restored or purged): the pager leads back.
      fill(listBox, h('p', { class: 'muted' }, page > 1 && total > 0 ? t('trash.pastEnd') : t('trash.empty')), nav);
      return;
    }
    const from = (page - 1) * size + 1;
    fill(listBox,
      h('p', { class: 'summary' }, t('trash.count', { count: total }), total > size ? t('trash.showing', { from, to: from + items.length - 1 }) : ''),
      h('ul', { class: 'docs trash' }, items.map((d) => trashItem(d, load))),
      nav);
  };
  await load();
}

// trashHash is the link to page n of the trash.
function trashHash(n) {
  return n > 1 ? `#/trash?page=${n}` : '#/trash';
}

function trashItem(d, reload) {
  const name = d.title || d.filename || t('common.untitled');
  const restoreBtn = h('button', { type: 'button', class: 'secondary', 'aria-label': t('trash.restoreNamed', { title: name }) }, t('trash.restore'));
  const purgeBtn = h('button', { type: 'button', class: 'danger', 'aria-label': t('trash.purgeNamed', { title: name }) }, t('trash.purge'));
  const busy = (on) => {
    restoreBtn.disabled = on;
    purgeBtn.disabled = on;
  };
  restoreBtn.addEventListener('click', async () => {
    busy(true);
    try {
      await restoreDocument(d.id);
      showInfo(t('trash.restored', { title: name }));
      await reload();
    } catch (e) {
      showError(e);
      busy(false);
    }
  });
  purgeBtn.addEventListener('click', async () => {
    if (!confirm(t('trash.confirmPurge', { title: name }))) return;
    busy(true);
    try {
      await api('DELETE', `/trash/${encodeURIComponent(d.id)}`);
      showInfo(t('trash.purged', { title: name }));
      await reload();
    } catch (e) {
      showError(e);
      busy(false);
    }
  });
  return h('li', { class: 'doc' },
    h('span', { class: 'doc-title' }, name),
    h('div', { class: 'meta' },
      visBadge(d.visibility),
      h('span', { title: t('common.size') }, humanSize(d.size)),
      h('span', {}, t('trash.deletedAt'), timeEl(d.deleted_at)),
      h('span', {}, t('trash.deletedBy'), nameEl(d.deleted_by)),
      d.owner_id !== state.me?.id ? h('span', {}, t('trash.owner'), nameEl(d.owner_id)) : null,
      h('span', {}, t('trash.purgeAt'), timeEl(d.purge_at))),
    h('div', { class: 'form-row' }, restoreBtn, purgeBtn));
}
