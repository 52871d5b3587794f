// Widgets more than one screen uses: banners, badges, the tag list, the
// visibility choice, the upload progress bar and the login link.
import { h, add, fill, $, selectBox } from './dom.js?v=__ASSET_VERSION__';
import { t } from './i18n.js?v=__ASSET_VERSION__';
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

export function visBadge(v) {
  const known = VISIBILITIES.includes(v);
  return h('span', { class: `badge vis-${known ? v : 'unknown'}`, title: t('common.visibility') },
    t(`vis.short.${known ? v : 'unknown'}`));
}

export function visibilitySelect(value) {
  return selectBox('visibility', VISIBILITIES.map((v) => [v, t(`vis.${v}`)]), value || 'private', t('common.visibility'));
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
