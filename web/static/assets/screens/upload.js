// Screen #/upload: a new document, sent as a resumable (tus) upload: progress,
// pause and resume, and an automatic resume after a network break.
import { h, fill, field, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { resumableUpload, api } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { state, flash } from '../state.js?v=__ASSET_VERSION__';
import { go, docHash } from '../router.js?v=__ASSET_VERSION__';
import { showError, clearBanner, visibilitySelect, parseTags, progressBar, loginLink, scheduleInput, scheduleValue } from '../ui.js?v=__ASSET_VERSION__';

const stateText = {
  uploading: () => t('upload.state.uploading'),
  paused: () => t('upload.state.paused'),
  offline: () => t('upload.state.offline'),
  processing: () => t('upload.state.processing'),
};

export function renderUpload(view) {
  setTitle(t('upload.title'));
  if (!state.me) {
    const [before, after] = t('upload.needLogin').split('{login}');
    fill(view, h('h1', {}, t('upload.title')), h('p', {}, before, loginLink(t('upload.needLoginLink')), after));
    return;
  }
  const file = h('input', { type: 'file', name: 'file', required: true });
  const title = h('input', { type: 'text', name: 'title', maxlength: 500 });
  const description = h('textarea', { name: 'description', rows: 3 });
  const tags = h('input', { type: 'text', name: 'tags', placeholder: t('upload.tagsPlaceholder') });
  const visibility = visibilitySelect('private');
  const publishAt = scheduleInput('publish_at');
  const lectureAt = scheduleInput('lecture_at');
  const submit = h('button', { type: 'submit' }, t('upload.submit'));
  const progress = progressBar();
  const pause = h('button', { type: 'button', class: 'secondary', hidden: true }, t('upload.pause'));
  const status = h('p', { class: 'muted upload-status', role: 'status', 'aria-live': 'polite' });
  let current = null;
  pause.addEventListener('click', () => {
    if (!current) return;
    if (pause.dataset.paused) {
      delete pause.dataset.paused;
      pause.textContent = t('upload.pause');
      current.resume();
    } else {
      pause.dataset.paused = '1';
      pause.textContent = t('upload.resume');
      current.pause();
    }
  });

  let titleFromFile = '';
  file.addEventListener('change', () => {
    const f = file.files[0];
    if (f && (!title.value || title.value === titleFromFile)) {
      titleFromFile = f.name;
      title.value = f.name;
    }
  });

  const form = h('form', { class: 'panel' },
    field(t('common.file'), file),
    field(t('common.title'), title, t('upload.titleHint')),
    field(t('common.description'), description),
    field(t('common.tags'), tags, t('common.tagsHint')),
    field(t('common.visibility'), visibility),
    field(t('schedule.publishAt'), publishAt, t('schedule.publishAtHint')),
    field(t('schedule.lectureAt'), lectureAt, t('schedule.lectureAtHint')),
    h('div', { class: 'form-row' }, submit, pause),
    progress.el,
    status);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) {
      showError(t('common.chooseFile'));
      return;
    }
    if (f.size === 0) {
      showError(t('upload.empty'));
      return;
    }
    const metadata = { filename: f.name, visibility: visibility.value };
    if (title.value.trim()) metadata.title = title.value.trim();
    if (description.value.trim()) metadata.description = description.value.trim();
    const tagList = parseTags(tags.value);
    if (tagList.length) metadata.tags = tagList.join(',');
    if (scheduleValue(publishAt)) metadata.publish_at = scheduleValue(publishAt);
    if (scheduleValue(lectureAt)) metadata.lecture_at = scheduleValue(lectureAt);

    clearBanner();
    submit.disabled = true;
    pause.hidden = false;
    delete pause.dataset.paused;
    pause.textContent = t('upload.pause');
    progress.start();
    try {
      current = resumableUpload(f, metadata, {
        progress: (fraction) => progress.update(fraction, false),
        state: (s) => {
          status.textContent = stateText[s]?.() || '';
          pause.hidden = s === 'processing';
          if (s === 'processing') progress.update(1, true);
        },
      });
      const out = await current.done;
      const doc = out?.document_id ? await api('GET', '/documents/' + encodeURIComponent(out.document_id)) : null;
      flash('info', t('upload.done', { title: doc?.title || f.name }));
      go(doc?.id ? docHash(doc.id) : '#/');
    } catch (err) {
      // 413 too_large, 415 unsupported_type, 409 quota_exceeded, ...: the server says why.
      showError(err);
    } finally {
      current = null;
      submit.disabled = false;
      pause.hidden = true;
      status.textContent = '';
      progress.stop();
    }
  });

  fill(view, h('h1', {}, t('upload.heading')), form);
}
