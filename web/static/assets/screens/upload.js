// Screen #/upload: a new document, with upload progress and cancel.
import { h, fill, field, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { upload } from '../api.js?v=__ASSET_VERSION__';
import { t } from '../i18n.js?v=__ASSET_VERSION__';
import { state, flash } from '../state.js?v=__ASSET_VERSION__';
import { go, docHash } from '../router.js?v=__ASSET_VERSION__';
import { showError, clearBanner, visibilitySelect, parseTags, progressBar, loginLink, scheduleInput, scheduleValue } from '../ui.js?v=__ASSET_VERSION__';

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
    h('div', { class: 'form-row' }, submit),
    progress.el);

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
    const body = new FormData();
    body.append('file', f, f.name);
    if (title.value.trim()) body.append('title', title.value.trim());
    if (description.value.trim()) body.append('description', description.value.trim());
    const tagList = parseTags(tags.value);
    if (tagList.length) body.append('tags', tagList.join(','));
    body.append('visibility', visibility.value);
    if (scheduleValue(publishAt)) body.append('publish_at', scheduleValue(publishAt));
    if (scheduleValue(lectureAt)) body.append('lecture_at', scheduleValue(lectureAt));

    clearBanner();
    submit.disabled = true;
    progress.start();
    try {
      const doc = await upload('POST', '/documents', body, {}, progress.update);
      flash('info', t('upload.done', { title: doc?.title || f.name }));
      go(doc?.id ? docHash(doc.id) : '#/');
    } catch (err) {
      // 413 too_large, 415 unsupported_type, 409 quota_exceeded, ...: the server says why.
      showError(err);
    } finally {
      submit.disabled = false;
      progress.stop();
    }
  });

  fill(view, h('h1', {}, t('upload.heading')), form);
}
