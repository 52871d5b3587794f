// Widgets more than one screen uses: banners, badges, the tag list, the
// visibility choice, the upload progress bar, the login link, the pager of
// a paged list and the answer to an edit conflict (412).
import { h, add, fill, $, selectBox } from './dom.js?v=__ASSET_VERSION__';
import { t, fmtTime } from './i18n.js?v=__ASSET_VERSION__';
import { state } from './state.js?v=__ASSET_VERSION__';
import { listHash } from './router.js?v=__ASSET_VERSION__';

export const VISIBILITIES = ['private', 'department', 'public'];

// showBanner shows text; action ({label, run}), when given, is a button in
// the banner (the undo of a delete) that closes it and runs.
export function showBanner(kind, text, action) {
  const box = h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' });
  add(box, [
    h('span', { class: 'banner-text' }, text),
    action ? h('button', { type: 'button', class: 'secondary banner-action', onclick: () => { box.remove(); action.run(); } }, action.label) : null,
    h('button', { type: 'button', class: 'banner-close', 'aria-label': t('common.dismiss'), onclick: () => box.remove() }, '×'),
  ]);
  fill($('banner'), box);
}

export function showError(e) {
  showBanner('error', e instanceof Error ? e.message : String(e));
}

export function showInfo(text) {
  showBanner('info', text);
}

export function clearBanner() {
  fill($('banner'));
}

// reloadOnConflict answers a failed save. A 412 means someone changed the
// document since the screen read it: their change is not overwritten;
// while the screen is still shown, reload() fetches and shows the newer
// state, then message says why the save did not happen. Any other error
// is shown as it is. It reports whether err was a conflict.
export async function reloadOnConflict(err, alive, reload, message) {
  if (err?.status !== 412) {
    showError(err);
    return false;
  }
  if (!alive()) return true;
  try {
    // reload answers false when there is nothing to tell (the caller
    // found the change no conflict, or the screen went away).
    if ((await reload()) !== false && alive()) showError(message);
  } catch (e) {
    showError(e);
  }
  return true;
}

// pager is the Previous / page N of M / Next navigation of a paged list
// of total items, size a page, on page; hrefOf(n) is page n's link. null
// when there is nothing to page through.
export function pager(page, total, size, hrefOf) {
  if (total <= size && page <= 1) return null;
  const pages = Math.max(1, Math.ceil(total / size));
  const link = (n, text, rel) => (n >= 1 && n <= pages && n !== page
    ? h('a', { class: 'button secondary', rel, href: hrefOf(n) }, text)
    : h('span', { class: 'button secondary disabled', 'aria-disabled': 'true' }, text));
  return h('nav', { class: 'pager', 'aria-label': t('list.pages') },
    link(page - 1, t('list.prev'), 'prev'),
    h('span', {}, t('list.page', { page, pages })),
    link(page + 1, t('list.next'), 'next'));
}

export function visBadge(v) {
  const known = VISIBILITIES.includes(v);
  return h('span', { class: `badge vis-${known ? v : 'unknown'}`, title: t('common.visibility') },
    t(`vis.short.${known ? v : 'unknown'}`));
}

export function visibilitySelect(value) {
  return selectBox('visibility', VISIBILITIES.map((v) => [v, t(`vis.${v}`)]), value || 'private', t('common.visibility'));
}

// scheduleInput is a local date and time for publish_at or lecture_at (an
// RFC 3339 UTC string or null); scheduleValue reads it back as RFC 3339
// UTC in whole seconds ('' when empty), which is what the API keeps.
export function scheduleInput(name, value) {
  const input = h('input', { type: 'datetime-local', name, step: 1 });
  if (value) {
    const d = new Date(value);
    if (!Number.isNaN(d.getTime())) {
      const local = new Date(d.getTime() - d.getTimezoneOffset() * 60000);
      input.value = local.toISOString().slice(0, 19);
    }
  }
  return input;
}

export function scheduleValue(input) {
  if (!input.value) return '';
  const d = new Date(input.value); // datetime-local is read as local time
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// scheduledBadge marks a document not yet published: only its managers
// ever see one, in lists and on its page.
export function scheduledBadge(doc) {
  if (!doc || !doc.publish_at) return null;
  const at = new Date(doc.publish_at);
  if (Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) return null;
  return h('span', { class: 'badge badge-scheduled', title: t('schedule.publishAt') },
    t('schedule.scheduled', { time: fmtTime(doc.publish_at) }));
}

export function tagList(tags) {
  if (!Array.isArray(tags) || tags.length === 0) return null;
  return h('ul', { class: 'tags', 'aria-label': t('common.tags') },
    tags.map((tag) => h('li', {}, h('a', { class: 'tag', href: listHash({ tag }) }, tag))));
}

export function parseTags(s) {
  // Accept ASCII and full-width commas (，), which Chinese keyboards type.
  const seen = new Set();
  for (const part of String(s).split(/[,，]/)) {
    const tag = part.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

// loginLink remembers where the user was, to come back after logging in.
export function loginLink(text) {
  return h('a', {
    href: '#/login',
    onclick: () => {
      state.returnTo = location.hash.startsWith('#/login') ? '' : location.hash;
    },
  }, text);
}

// progressBar is an upload's named progress bar with a cancel button.
export function progressBar() {
  const bar = h('progress', { max: 100, value: 0, 'aria-label': t('progress.label') });
  const label = h('span', { class: 'progress-label' }, '0%');
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => state.xhr?.abort() }, t('common.cancel'));
  const el = h('div', { class: 'progress', hidden: true, role: 'status' }, bar, label, cancel);
  return {
    el,
    start() {
      el.hidden = false;
      bar.value = 0;
      label.textContent = '0%';
    },
    update(fraction, sent) {
      const pct = Math.min(100, Math.round(fraction * 100));
      bar.value = pct;
      label.textContent = sent ? t('progress.processing') : `${pct}%`;
    },
    stop() {
      el.hidden = true;
    },
  };
}
