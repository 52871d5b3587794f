// Screen #/doc/<id>: a document's details, preview and versions, and for
// those who may write it: edit and new version; for managers also
// visibility, delete and the Sharing panel (screens/sharing.js).
import { h, fill, field, section, loading, timeEl, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { API, api, request, readJSON, upload } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize } from '../i18n.js?v=__ASSET_VERSION__';
import { state, flash } from '../state.js?v=__ASSET_VERSION__';
import { go, rerender, docPath, docHash } from '../router.js?v=__ASSET_VERSION__';
import { nameEl } from '../names.js?v=__ASSET_VERSION__';
import { sharingPanel } from './sharing.js?v=__ASSET_VERSION__';
import { docStatsSection } from './docstats.js?v=__ASSET_VERSION__';
import {
  showError, showInfo, clearBanner, visBadge, visibilitySelect, tagList, parseTags, progressBar, loginLink,
  scheduleInput, scheduleValue, scheduledBadge, reloadOnConflict,
} from '../ui.js?v=__ASSET_VERSION__';
import { previewPanel } from './preview.js?v=__ASSET_VERSION__';
import { restoreDocument } from './trash.js?v=__ASSET_VERSION__';

const enc = encodeURIComponent;

// contentURL names one version's bytes: a new version is a new URL, so no
// cached response (whole or partial) of an older one can answer for it.
const contentURL = (doc) => `${docPath(doc.id)}/content?v=${enc(doc.version ?? '')}`;

function canManage(doc) {
  const me = state.me;
  if (!me) return false;
  if (me.id === doc.owner_id || me.role === 'admin') return true;
  return me.role === 'dept_admin' && me.department_id != null && me.department_id === doc.department_id;
}

// permissionOf asks the server what the caller may do to the document
// (GET .../permission): grants make a reader an editor or a manager, which
// the document alone does not say. Falls back to the owner/admin rule.
async function permissionOf(doc) {
  if (!state.me) return 'read';
  try {
    return (await api('GET', `${docPath(doc.id)}/permission`))?.permission || 'read';
  } catch {
    return canManage(doc) ? 'manage' : 'read';
  }
}

// metadataTag is the If-Match value for PATCH: the metadata ETag "r<revision>".
function metadataTag(doc, etag) {
  if (doc.revision != null && doc.revision !== '') return `"r${doc.revision}"`;
  return etag || '';
}

// fetchDoc reads a document and its ETag.
async function fetchDoc(id) {
  const res = await request('GET', docPath(id));
  const etag = res.headers.get('ETag') || '';
  return { doc: readJSON(res.status, await res.text()), etag };
}

export async function renderDoc(view, id, alive) {
  setTitle(t('doc.title'));
  fill(view, loading());
  let doc;
  let etag;
  try {
    ({ doc, etag } = await fetchDoc(id));
  } catch (e) {
    if (!alive()) return;
    if (e.status === 404) {
      setTitle(t('notFound.title'));
      fill(view,
        h('h1', {}, t('doc.notFound')),
        h('p', {}, t('doc.notFoundText')),
        state.me ? null : h('p', {}, loginLink(t('user.login')), t('doc.loginToSee')),
        h('p', {}, h('a', { href: '#/' }, t('common.backToDocuments'))));
      return;
    }
    fill(view, h('p', {}, h('a', { href: '#/' }, t('common.backToDocuments'))));
    throw e;
  }
  if (!alive() || !doc) return;
  const perm = await permissionOf(doc);
  if (!alive()) return;
  setTitle(doc.title || t('common.untitled'));

  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  const details = h('dl', { class: 'meta-grid' },
    row(t('common.visibility'), [visBadge(doc.visibility), ' ', scheduledBadge(doc)]),
    doc.publish_at ? row(t('schedule.publishAt'), timeEl(doc.publish_at)) : null,
    doc.lecture_at ? row(t('schedule.lectureAt'), timeEl(doc.lecture_at)) : null,
    row(t('common.file'), doc.filename || '—'),
    row(t('doc.type'), doc.mime || '—'),
    row(t('common.size'), humanSize(doc.size)),
    row(t('doc.version'), doc.version != null ? String(doc.version) : '—'),
    row(t('doc.owner'), nameEl(doc.owner_id)),
    row(t('doc.department'), doc.department_id ? nameEl(doc.department_id) : '—'),
    row(t('doc.created'), timeEl(doc.created_at)),
    row(t('doc.updated'), timeEl(doc.updated_at)),
    row(t('doc.sha256'), h('code', { class: 'hash' }, doc.sha256 || '—')));

  fill(view,
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, t('doc.back'))),
    h('h1', { class: 'doc-heading' }, doc.title || t('common.untitled')),
    doc.description ? h('p', { class: 'description' }, doc.description) : null,
    tagList(doc.tags),
    textNote(doc, alive),
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: `${API}${contentURL(doc)}&download=1`, download: '' }, t('doc.download'))),
    section(t('doc.details'), details),
    section(t('doc.preview'), previewPanel(doc, alive)),
    section(t('doc.versions'), versionList(doc, alive)),
    docStatsSection(doc, alive),
    perm === 'write' || perm === 'manage' ? manage(doc, etag, alive, perm === 'manage') : null,
    perm === 'manage' ? sharingPanel(doc, alive) : null);
}

// textNote says, while it matters, where the document's text for search
// stands: being extracted (the note follows it until it is done) or
// failed. A ready or textless document shows nothing.
function textNote(doc, alive) {
  const note = h('p', { class: 'muted text-state', role: 'status' });
  const show = (s) => {
    note.hidden = s !== 'pending' && s !== 'failed';
    fill(note, s === 'pending' ? t('doc.textPending') : s === 'failed' ? t('doc.textFailed') : '');
  };
  show(doc.text_state);
  if (doc.text_state === 'pending') {
    let tries = 0;
    const poll = async () => {
      if (!alive() || tries++ > 60) return;
      try {
        const cur = await api('GET', docPath(doc.id));
        if (!alive()) return;
        if (cur?.text_state !== 'pending') {
          show(cur?.text_state);
          return;
        }
      } catch {
        // a failed poll is retried; the note stays as it is
      }
      setTimeout(poll, 2000);
    };
    setTimeout(poll, 1000);
  }
  return note;
}

function versionList(doc, alive) {
  const box = h('div', {}, loading(t('versions.loading')));
  api('GET', `${docPath(doc.id)}/versions?page_size=100`).then((data) => {
    if (!alive()) return;
    const items = (Array.isArray(data) ? data : data?.items || []).slice().sort((a, b) => b.version - a.version);
    if (!items.length) {
      fill(box, h('p', { class: 'muted' }, t('versions.none')));
      return;
    }
    const total = Number.isFinite(data?.total) ? data.total : items.length;
    const by = (v) => {
      if (!v.created_by) return null;
      if (state.me && v.created_by === state.me.id) return h('span', { class: 'muted' }, t('versions.byYou'));
      const [before, after] = t('versions.by').split('{name}');
      return h('span', { class: 'muted' }, before, nameEl(v.created_by), after);
    };
    fill(box,
      h('ul', { class: 'versions' }, items.map((v) => h('li', {},
        h('a', { href: `${API}${docPath(doc.id)}/versions/${enc(v.version)}/content`, download: '' }, t('versions.item', { n: v.version })),
        v.version === doc.version ? h('span', { class: 'badge' }, t('versions.current')) : null,
        h('span', { class: 'muted' }, humanSize(v.size)),
        h('span', { class: 'muted' }, timeEl(v.created_at)),
        by(v)))),
      total > items.length ? h('p', { class: 'muted' }, t('versions.newest', { n: items.length, total })) : null);
  }).catch((e) => {
    if (alive()) fill(box, h('p', { class: 'error-text' }, t('versions.error', { message: e.message })));
  });
  return box;
}

function versionForm(doc, alive) {
  const file = h('input', { type: 'file', name: 'file', required: true });
  const sendBtn = h('button', { type: 'submit' }, t('manage.uploadVersion'));
  const progress = progressBar();
  const form = h('form', {},
    h('h3', {}, t('manage.newVersion')),
    field(t('common.file'), file, t('manage.replaces', { n: doc.version })),
    sendBtn,
    progress.el);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) {
      showError(t('common.chooseFile'));
      return;
    }
    const body = new FormData();
    body.append('file', f, f.name);
    clearBanner();
    sendBtn.disabled = true;
    progress.start();
    try {
      // If-Match on the content version: refuse if someone else replaced it meanwhile.
      const updated = await upload('PUT', `${docPath(doc.id)}/content`, body, { 'If-Match': `"${doc.version}"` }, progress.update);
      if (!alive()) return;
      flash('info', t('manage.uploaded', { n: updated?.version ?? Number(doc.version) + 1 }));
      rerender();
    } catch (err) {
      if (err.status === 412 && alive()) {
        flash('error', t('manage.changed'));
        rerender();
      } else {
        showError(err);
      }
    } finally {
      sendBtn.disabled = false;
      progress.stop();
    }
  });
  return form;
}

// editForm edits the metadata. On 412 (someone saved meanwhile) it keeps
// what the user typed and shows the newer version beside it; the next save
// is made against the newer revision, i.e. replaces it knowingly.
// sameFields reports whether two readings of a document agree on what the
// edit form edits.
function sameFields(a, b) {
  return (a.title || '') === (b.title || '') && (a.description || '') === (b.description || '') &&
    (a.tags || []).join('\n') === (b.tags || []).join('\n') && a.visibility === b.visibility;
}

function editForm(doc, etag, alive, manager) {
  let base = doc; // what the form's changes are relative to (and If-Match names)
  let baseTag = etag;
  const title = h('input', { type: 'text', name: 'title', value: doc.title || '', required: true, maxlength: 500 });
  const description = h('textarea', { name: 'description', rows: 3, value: doc.description || '' });
  const tags = h('input', { type: 'text', name: 'tags', value: (doc.tags || []).join(', ') });
  const visibility = visibilitySelect(doc.visibility); // changing it needs manage
  const publishAt = scheduleInput('publish_at', doc.publish_at); // so does this
  const lectureAt = scheduleInput('lecture_at', doc.lecture_at);
  const saveBtn = h('button', { type: 'submit' }, t('manage.save'));
  const theirs = h('aside', { class: 'conflict', hidden: true, 'aria-labelledby': 'conflict-title' });
  const form = h('form', {},
    h('h3', {}, t('doc.details')),
    field(t('common.title'), title),
    field(t('common.description'), description),
    field(t('common.tags'), tags, t('common.tagsHint')),
    manager ? field(t('common.visibility'), visibility) : null,
    manager ? field(t('schedule.publishAt'), publishAt, t('schedule.publishAtHint')) : null,
    field(t('schedule.lectureAt'), lectureAt, t('schedule.lectureAtHint')),
    saveBtn);

  const showTheirs = (newer) => {
    const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
    fill(theirs,
      h('h3', { id: 'conflict-title' }, t('conflict.title')),
      h('p', {}, t('conflict.text')),
      h('dl', { class: 'meta-grid' },
        row(t('common.title'), newer.title || '—'),
        row(t('common.description'), newer.description || '—'),
        row(t('common.tags'), (newer.tags || []).join(', ') || '—'),
        row(t('common.visibility'), visBadge(newer.visibility))),
      h('p', { class: 'muted' }, t('conflict.saveMine')),
      h('button', { type: 'button', class: 'secondary', onclick: () => rerender() }, t('conflict.takeTheirs')));
    theirs.hidden = false;
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const patch = {};
    if (title.value.trim() !== (base.title || '')) patch.title = title.value.trim();
    if (description.value.trim() !== (base.description || '').trim()) patch.description = description.value.trim();
    const newTags = parseTags(tags.value);
    if (newTags.join('\n') !== (base.tags || []).join('\n')) patch.tags = newTags;
    if (manager && visibility.value !== base.visibility) patch.visibility = visibility.value;
    // Compared as instants: the API keeps whole seconds in UTC.
    const sameTime = (v, old) => (v || null) === (old ? new Date(old).toISOString().replace(/\.\d{3}Z$/, 'Z') : null);
    if (manager && !sameTime(scheduleValue(publishAt), base.publish_at)) patch.publish_at = scheduleValue(publishAt) || null;
    if (!sameTime(scheduleValue(lectureAt), base.lecture_at)) patch.lecture_at = scheduleValue(lectureAt) || null;
    if (Object.keys(patch).length === 0) {
      showInfo(t('manage.nothing'));
      return;
    }
    clearBanner();
    saveBtn.disabled = true;
    try {
      // A newer revision that changed none of the form's fields (a new
      // version, its grants) is no conflict: the patch is sent again once
      // against it. Any other is shown beside the form (reloadOnConflict).
      for (let attempt = 0; ; attempt++) {
        const ifMatch = metadataTag(base, baseTag);
        try {
          await api('PATCH', docPath(doc.id), { json: patch, headers: ifMatch ? { 'If-Match': ifMatch } : {} });
          break;
        } catch (err) {
          let again = false;
          await reloadOnConflict(err, alive, async () => {
            const before = base;
            ({ doc: base, etag: baseTag } = await fetchDoc(doc.id));
            again = attempt === 0 && sameFields(before, base);
            if (again || !alive()) return false;
            showTheirs(base);
            return true;
          }, t('err.412'));
          if (!again || !alive()) return;
        }
      }
      if (!alive()) return;
      flash('info', t('manage.saved'));
      rerender();
    } catch (err) {
      showError(err);
    } finally {
      saveBtn.disabled = false;
    }
  });
  return h('div', { class: 'edit-with-conflict' }, form, theirs);
}

function manage(doc, etag, alive, manager) {
  const deleteBtn = h('button', { type: 'button', class: 'danger' }, t('manage.delete'));
  deleteBtn.addEventListener('click', async () => {
    const name = doc.title || t('manage.thisDocument');
    if (!confirm(t('manage.confirmDelete', { title: name }))) return;
    deleteBtn.disabled = true;
    try {
      await api('DELETE', docPath(doc.id));
      // Moved to the trash: the banner on the list offers to undo it.
      flash('info', t('manage.deleted', { title: name }), {
        label: t('manage.undo'),
        run: async () => {
          try {
            await restoreDocument(doc.id);
            flash('info', t('trash.restored', { title: name }));
            go(docHash(doc.id));
          } catch (err) {
            showError(err);
          }
        },
      });
      go('#/');
    } catch (err) {
      showError(err);
      deleteBtn.disabled = false;
    }
  });

  return section(t('manage.title'),
    h('div', { class: 'manage-grid' }, editForm(doc, etag, alive, manager), versionForm(doc, alive)),
    manager ? h('hr', {}) : null,
    manager ? h('div', { class: 'form-row' }, deleteBtn, h('span', { class: 'muted' }, t('manage.deleteHint'))) : null);
}
