// Screen #/?q=&tag=&sort=&page=: search and list.
//
// Search snippets are HTML whose only markup is <mark>..</mark>; every other
// character is HTML-escaped by the server. snippetNodes splits on the two
// tags, decodes the entities between them and builds <mark> elements itself.
import { h, fill, selectBox, loading, timeEl, setTitle } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize } from '../i18n.js?v=__ASSET_VERSION__';
import { state } from '../state.js?v=__ASSET_VERSION__';
import { go, listHash, docHash } from '../router.js?v=__ASSET_VERSION__';
import { visBadge, tagList, scheduledBadge, pager } from '../ui.js?v=__ASSET_VERSION__';

const PAGE_SIZE = 20;
const SORTS = ['relevance', 'created_at', 'views'];

const NAMED_ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0' };

function decodeEntities(s) {
  return s.replace(/&(#[xX][0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, e) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      const ok = n > 0 && n <= 0x10ffff && !(n >= 0xd800 && n <= 0xdfff);
      return ok ? String.fromCodePoint(n) : whole;
    }
    return NAMED_ENTITIES[e.toLowerCase()] ?? whole;
  });
}

export function snippetNodes(snippet) {
  const out = [];
  let mark = null;
  for (const part of String(snippet).split(/(<\/?mark>)/i)) {
    const tag = part.toLowerCase();
    if (tag === '<mark>') {
      if (!mark) mark = document.createElement('mark');
      continue;
    }
    if (tag === '</mark>') {
      if (mark) out.push(mark);
      mark = null;
      continue;
    }
    if (!part) continue;
    const text = document.createTextNode(decodeEntities(part));
    if (mark) mark.append(text);
    else out.push(text);
  }
  if (mark) out.push(mark);
  return out;
}

export async function renderList(view, params, alive) {
  const q = (params.get('q') || '').trim();
  const tag = (params.get('tag') || '').trim();
  const explicitSort = params.get('sort') || '';
  const sort = explicitSort || (q ? 'relevance' : 'created_at');
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  setTitle(q || t('list.title'));

  const qIn = h('input', { type: 'search', name: 'q', value: q, maxlength: 200, placeholder: t('list.searchPlaceholder'), 'aria-label': t('list.search') });
  const tagIn = h('input', { type: 'text', name: 'tag', value: tag, placeholder: t('list.tag'), 'aria-label': t('list.tagLabel') });
  const sortSel = selectBox('sort', SORTS.map((s) => [s, t(`sort.${s}`)]), sort, t('sort.label'));
  let sortTouched = Boolean(explicitSort);
  const form = h('form', { class: 'search', role: 'search' }, qIn, tagIn, sortSel, h('button', { type: 'submit' }, t('list.submit')));
  sortSel.addEventListener('change', () => {
    sortTouched = true;
    form.requestSubmit();
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    // An untouched sort follows the server's default (relevance with q, newest without).
    go(listHash({ q: qIn.value.trim(), tag: tagIn.value.trim(), sort: sortTouched ? sortSel.value : '', page: 1 }));
  });

  const results = h('div', { 'aria-live': 'polite' }, loading());
  fill(view, h('h1', {}, q ? t('list.results') : t('list.title')), form, results);

  const qs = new URLSearchParams({ page: String(page), page_size: String(PAGE_SIZE) });
  if (q) qs.set('q', q);
  if (tag) qs.set('tag', tag);
  // relevance without q means nothing; leave the server its default then.
  if (explicitSort && !(explicitSort === 'relevance' && !q)) qs.set('sort', explicitSort);

  let data;
  try {
    data = await api('GET', `/documents?${qs}`);
  } catch (e) {
    if (!alive()) return;
    fill(results, h('p', { class: 'muted' }, t('list.none')));
    throw e;
  }
  if (!alive()) return;

  const items = Array.isArray(data?.items) ? data.items : [];
  const total = Number.isFinite(data?.total) ? data.total : items.length;
  const size = data?.page_size || PAGE_SIZE;
  const from = items.length ? (page - 1) * size + 1 : 0;
  const to = (page - 1) * size + items.length;

  const filters = [q ? t('list.matching', { q }) : '', tag ? t('list.tagged', { tag }) : ''].filter(Boolean).join(t('list.and'));
  const summary = h('p', { class: 'summary' },
    t('list.count', { count: total }), filters ? ` ${filters}` : '',
    items.length ? t('list.showing', { from, to }) : '',
    tag || q ? [' · ', h('a', { href: '#/' }, t('list.clear'))] : null);

  let list;
  if (items.length) {
    list = h('ul', { class: 'docs' }, items.map(docItem));
  } else if (page > 1 && total > 0) {
    list = h('p', {}, t('list.pastEnd'));
  } else {
    list = h('p', { class: 'muted' }, q || tag ? t('list.noMatch') : state.me ? t('list.empty') : t('list.emptyGuest'));
  }

  fill(results, summary, list, pager(page, total, size, (n) => listHash({ q, tag, sort: explicitSort, page: n })));
}

function docItem(d) {
  return h('li', { class: 'doc' },
    h('a', { class: 'doc-title', href: docHash(d.id) }, d.title || d.filename || t('common.untitled')),
    d.snippet
      ? h('p', { class: 'snippet' }, snippetNodes(d.snippet))
      : d.description ? h('p', { class: 'desc muted' }, d.description) : null,
    h('div', { class: 'meta' },
      visBadge(d.visibility),
      scheduledBadge(d),
      tagList(d.tags),
      h('span', { title: t('common.size') }, humanSize(d.size)),
      h('span', {}, t('list.updated'), timeEl(d.updated_at))));
}
