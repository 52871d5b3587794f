// docplat browser UI: one page over the JSON API described in shared/API.md
// (and the server's /api/openapi.json). Hash routes:
//   #/?q=&tag=&sort=&page=   search and list
//   #/upload                 upload a document
//   #/doc/<id>               view (and, with write access, manage) a document
//   #/login                  log in
//
// Safety rule for this file: every string that comes from the server reaches
// the page as a text node or through setAttribute on an attribute this file
// chose. The only server markup honoured is <mark> in search snippets, and
// those elements are rebuilt here from the split string, never parsed as HTML.

const API = '/api/v1';
const PAGE_SIZE = 20;
const PREVIEW_BYTES = 512 * 1024;
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const VISIBILITIES = [
  ['private', 'Private (me and people I share with)'],
  ['department', 'Department'],
  ['public', 'Public (anyone, even logged out)'],
];
const SORTS = [
  ['relevance', 'Relevance'],
  ['created_at', 'Newest'],
  ['views', 'Most viewed'],
];

// Shown when an error answer has no readable message (e.g. a proxy's HTML page).
const FALLBACK_MESSAGES = {
  400: 'The request was not accepted.',
  401: 'You need to log in to do that.',
  403: 'You are not allowed to do that.',
  404: 'Not found.',
  409: 'The request conflicts with the current state (quota exceeded or a concurrent change).',
  412: 'The document changed since you loaded it.',
  413: 'The file is too large.',
  415: 'This file type is not accepted.',
  429: 'Too many requests. Please wait a moment and try again.',
  502: 'The server is unreachable right now (bad gateway).',
  503: 'The service is temporarily unavailable.',
  504: 'The server took too long to answer.',
};

const state = {
  me: null, // the logged-in user, or null while browsing anonymously
  csrf: '', // csrf_token from the login answer, used only if the cookie is unreadable
  flash: null, // {kind, text}: a banner to show after the next navigation
  returnTo: '', // where to go after logging in
  xhr: null, // the upload in flight, if any
};

// ---------------------------------------------------------------------------
// DOM helpers

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple']);

// h builds an element. Children that are not Nodes become text nodes.
function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// fill replaces el's children, skipping null and false like h does
// (Element.replaceChildren would render them as the text "null").
function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

const $ = (id) => document.getElementById(id);

function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('small', {}, hint) : null);
}

function selectBox(name, options, value, label) {
  const sel = h('select', { name, 'aria-label': label }, options.map(([v, text]) => h('option', { value: v }, text)));
  sel.value = value;
  return sel;
}

function section(title, ...body) {
  return h('section', { class: 'panel' }, h('h2', {}, title), body);
}

function loading(text = 'Loading…') {
  return h('p', { class: 'muted' }, text);
}

// ---------------------------------------------------------------------------
// Formatting

function humanSize(n) {
  if (n == null || n === '') return '—';
  n = Number(n);
  if (!Number.isFinite(n) || n < 0) return '—';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  let i = -1;
  do {
    n /= 1024;
    i++;
  } while (n >= 1024 && i < units.length - 1);
  return `${n < 10 ? n.toFixed(1) : Math.round(n)} ${units[i]}`;
}

function fmtTime(s) {
  if (!s) return '—';
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? String(s) : d.toLocaleString();
}

function timeEl(s) {
  return h('time', { datetime: s || null, title: s || null }, fmtTime(s));
}

function parseTags(s) {
  // Accept ASCII and full-width commas (，), which Chinese keyboards type.
  const seen = new Set();
  for (const t of String(s).split(/[,，]/)) {
    const tag = t.trim();
    if (tag) seen.add(tag);
  }
  return [...seen];
}

function visBadge(v) {
  const known = VISIBILITIES.some(([k]) => k === v);
  return h('span', { class: `badge vis-${known ? v : 'unknown'}`, title: 'Visibility' }, v || 'unknown');
}

function tagList(tags) {
  if (!Array.isArray(tags) || tags.length === 0) return null;
  return h('ul', { class: 'tags', 'aria-label': 'Tags' },
    tags.map((t) => h('li', {}, h('a', { class: 'tag', href: listHash({ tag: t }) }, t))));
}

// ---------------------------------------------------------------------------
// Search snippets: HTML whose only markup is <mark>..</mark>; every other
// character is HTML-escaped by the server. Split on the two tags, decode the
// entities of the text between them, and build <mark> elements ourselves.

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

function snippetNodes(snippet) {
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

// ---------------------------------------------------------------------------
// API client

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function cookie(name) {
  for (const part of document.cookie.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return part.slice(i + 1).trim();
      }
    }
  }
  return '';
}

function csrfToken() {
  return cookie('docplat_csrf') || state.csrf;
}

// errorFrom turns a failed answer into an ApiError carrying the server's message.
function errorFrom(status, text, path) {
  let code = '';
  let message = '';
  try {
    const e = JSON.parse(text)?.error;
    if (e) {
      code = String(e.code || '');
      message = String(e.message || '');
    }
  } catch {
    // Not JSON: a proxy's error page. Fall back to a generic message.
  }
  if (!message) message = FALLBACK_MESSAGES[status] || `The server answered with status ${status}.`;
  const err = new ApiError(status, code || `http_${status}`, message);
  if (status === 401 && state.me && !path.startsWith('/auth/')) {
    // The session ended under us (expired or logged out elsewhere).
    state.me = null;
    renderChrome();
    err.message = `${message.replace(/[.。\s]+$/, '')}. Your session has ended; please log in again.`;
  }
  return err;
}

// Retry-After (503 when the server sheds load or a dependency is down, 429):
// idempotent requests (GET, HEAD, and writes carrying an Idempotency-Key)
// are sent again after the advised delay, at most RETRY_LIMIT times, with a
// banner saying so; other writes are never resent behind the user's back:
// their error says when to try again.
const RETRY_LIMIT = 3;
const MAX_RETRY_WAIT_S = 30;

// retryAfterSeconds reads a Retry-After header in seconds (null if absent or
// in the HTTP-date form, which docplat never sends).
function retryAfterSeconds(value) {
  if (value == null || !/^\s*\d+\s*$/.test(value)) return null;
  return Math.min(Number.parseInt(value, 10), MAX_RETRY_WAIT_S);
}

function retriable(method, headers) {
  return method === 'GET' || method === 'HEAD' || headers.has('Idempotency-Key');
}

// withRetryAdvice adds "try again in N s" to the error of a refused request.
function withRetryAdvice(err, wait) {
  if (wait !== null) err.message = `${err.message.replace(/[.。\s]+$/, '')}. Try again in ${Math.max(wait, 1)} s.`;
  return err;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// request performs a fetch against the API and throws ApiError unless 2xx.
async function request(method, path, { json, body, headers = {}, accept = 'application/json' } = {}) {
  const hdrs = new Headers(headers);
  hdrs.set('Accept', accept);
  if (json !== undefined) {
    hdrs.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  }
  if (UNSAFE_METHODS.has(method)) {
    const t = csrfToken();
    if (t) hdrs.set('X-CSRF-Token', t);
  }
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(API + path, { method, headers: hdrs, body, credentials: 'same-origin', cache: 'no-cache' });
    } catch {
      throw new ApiError(0, 'network', 'Could not reach the server. Check your connection and try again.');
    }
    if (res.ok) {
      if (attempt > 0) clearBanner();
      return res;
    }
    const text = await res.text().catch(() => '');
    const wait = res.status === 503 || res.status === 429 ? retryAfterSeconds(res.headers.get('Retry-After')) : null;
    if (wait !== null && attempt < RETRY_LIMIT && retriable(method, hdrs)) {
      showInfo(`The server is busy right now; trying again in ${Math.max(wait, 1)} s…`);
      // A little jitter so that many pages refused together do not return together.
      await sleep((Math.max(wait, 1) + Math.random()) * 1000);
      continue;
    }
    throw withRetryAdvice(errorFrom(res.status, text, path), wait);
  }
}

// api is request plus JSON decoding (null for 204 and empty bodies).
async function api(method, path, opts) {
  const res = await request(method, path, opts);
  return readJSON(res.status, await res.text());
}

function readJSON(status, text) {
  if (status === 204 || !text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(status, 'bad_response', 'The server sent an answer this page cannot read.');
  }
}

// upload sends multipart form data with XMLHttpRequest, which (unlike fetch)
// reports upload progress. onProgress(fraction, sent) is called as bytes go out.
function upload(method, path, form, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, API + path);
    xhr.setRequestHeader('Accept', 'application/json');
    const t = csrfToken();
    if (t) xhr.setRequestHeader('X-CSRF-Token', t);
    for (const [k, v] of Object.entries(headers || {})) xhr.setRequestHeader(k, v);
    xhr.upload.onprogress = (e) => {
      if (e.lengthComputable && e.total > 0) onProgress(e.loaded / e.total, false);
    };
    xhr.upload.onload = () => onProgress(1, true);
    xhr.onload = () => {
      state.xhr = null;
      if (xhr.status >= 200 && xhr.status < 300) {
        try {
          resolve(readJSON(xhr.status, xhr.responseText));
        } catch (e) {
          reject(e);
        }
      } else {
        // Uploads are not resent automatically (see request); the error says when to retry.
        const wait = xhr.status === 503 || xhr.status === 429 ? retryAfterSeconds(xhr.getResponseHeader('Retry-After')) : null;
        reject(withRetryAdvice(errorFrom(xhr.status, xhr.responseText, path), wait));
      }
    };
    xhr.onerror = () => {
      state.xhr = null;
      reject(new ApiError(0, 'network',
        'The upload failed: the connection to the server was lost. If the file is very large, the server may have refused it.'));
    };
    xhr.onabort = () => {
      state.xhr = null;
      reject(new ApiError(0, 'aborted', 'Upload cancelled.'));
    };
    state.xhr = xhr;
    xhr.send(form);
  });
}

function progressBar() {
  const bar = h('progress', { max: 100, value: 0 });
  const label = h('span', { class: 'progress-label' }, '0%');
  const cancel = h('button', { type: 'button', class: 'secondary', onclick: () => state.xhr?.abort() }, 'Cancel');
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
      label.textContent = sent ? '100% — processing…' : `${pct}%`;
    },
    stop() {
      el.hidden = true;
    },
  };
}

// ---------------------------------------------------------------------------
// Banners

function showBanner(kind, text) {
  const box = h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' });
  add(box, [
    h('span', { class: 'banner-text' }, text),
    h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss', onclick: () => box.remove() }, '×'),
  ]);
  fill($('banner'), box);
}

function showError(e) {
  showBanner('error', e instanceof Error ? e.message : String(e));
}

function showInfo(text) {
  showBanner('info', text);
}

function clearBanner() {
  fill($('banner'));
}

// ---------------------------------------------------------------------------
// Routing

const enc = encodeURIComponent;
const docHash = (id) => `#/doc/${enc(id)}`;
const docPath = (id) => `/documents/${enc(id)}`;
const contentURL = (id) => `${API}${docPath(id)}/content`;

function listHash({ q = '', tag = '', sort = '', page = 1 } = {}) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (tag) p.set('tag', tag);
  if (sort) p.set('sort', sort);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `#/?${s}` : '#/';
}

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  return {
    path: qi >= 0 ? raw.slice(0, qi) : raw,
    params: new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : ''),
  };
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function flash(kind, text) {
  state.flash = { kind, text };
}

let routeSeq = 0;
let currentHash = location.hash;

async function route() {
  const seq = ++routeSeq;
  const alive = () => seq === routeSeq; // false once the user has navigated on
  currentHash = location.hash;
  clearBanner();
  if (state.flash) {
    showBanner(state.flash.kind, state.flash.text);
    state.flash = null;
  }
  const { path, params } = parseHash();
  renderChrome(path);
  const view = $('view');
  try {
    let m;
    if (path === '/' || path === '') await renderList(view, params, alive);
    else if (path === '/login') renderLogin(view);
    else if (path === '/upload') renderUpload(view);
    else if ((m = path.match(/^\/doc\/([^/]+)$/))) await renderDoc(view, decodeURIComponent(m[1]), alive);
    else renderNotFound(view);
  } catch (e) {
    if (alive()) showError(e);
  }
}

function loginLink(text) {
  return h('a', {
    href: '#/login',
    onclick: () => {
      state.returnTo = location.hash.startsWith('#/login') ? '' : location.hash;
    },
  }, text);
}

// renderChrome draws the navigation and the user box in the top bar.
function renderChrome(path = parseHash().path) {
  const link = (href, text, active) => h('a', { href, 'aria-current': active ? 'page' : null }, text);
  fill($('nav'), 
    link('#/', 'Documents', path === '/' || path === ''),
    state.me ? link('#/upload', 'Upload', path === '/upload') : null,
  );
  const user = $('user');
  if (state.me) {
    const me = state.me;
    fill(user, 
      h('span', { class: 'user-name', title: me.username || '' }, me.display_name || me.username || 'Signed in'),
      h('span', { class: 'badge', title: 'Role' }, me.role || 'member'),
      h('button', { type: 'button', class: 'secondary', onclick: logout }, 'Log out'),
    );
  } else {
    fill(user, h('span', { class: 'muted' }, 'Browsing as guest'), loginLink('Log in'));
  }
}

async function logout() {
  try {
    await api('POST', '/auth/logout');
  } catch (e) {
    if (e.status !== 401) {
      showError(e);
      return;
    }
  }
  state.me = null;
  state.csrf = '';
  flash('info', 'You are logged out.');
  go('#/');
}

function renderNotFound(view) {
  document.title = 'Not found – docplat';
  fill(view, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Back to documents')));
}

// ---------------------------------------------------------------------------
// Screen: login

function renderLogin(view) {
  document.title = 'Log in – docplat';
  if (state.me) {
    fill(view, 
      h('h1', {}, 'Logged in'),
      h('p', {}, `You are logged in as ${state.me.display_name || state.me.username}. `, h('a', { href: '#/' }, 'Go to documents')),
    );
    return;
  }
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const submit = h('button', { type: 'submit' }, 'Log in');
  const form = h('form', { class: 'panel narrow' },
    field('Username', username),
    field('Password', password),
    submit);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    submit.disabled = true;
    try {
      const res = await api('POST', '/auth/login', { json: { username: username.value.trim(), password: password.value } });
      state.csrf = res?.csrf_token || '';
      state.me = res?.user || (await api('GET', '/me'));
      const next = state.returnTo || '#/';
      state.returnTo = '';
      flash('info', `Welcome, ${state.me.display_name || state.me.username}.`);
      go(next);
    } catch (err) {
      showError(err);
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  fill(view, h('h1', {}, 'Log in'), form,
    h('p', { class: 'muted' }, 'Public documents can be browsed without logging in. ', h('a', { href: '#/' }, 'Browse documents')));
  username.focus();
}

// ---------------------------------------------------------------------------
// Screen: search and list

async function renderList(view, params, alive) {
  const q = (params.get('q') || '').trim();
  const tag = (params.get('tag') || '').trim();
  const explicitSort = params.get('sort') || '';
  const sort = explicitSort || (q ? 'relevance' : 'created_at');
  const page = Math.max(1, parseInt(params.get('page') || '1', 10) || 1);
  document.title = q ? `${q} – docplat` : 'Documents – docplat';

  const qIn = h('input', { type: 'search', name: 'q', value: q, maxlength: 200, placeholder: 'Search titles, tags and text…', 'aria-label': 'Search' });
  const tagIn = h('input', { type: 'text', name: 'tag', value: tag, placeholder: 'Tag', 'aria-label': 'Filter by tag' });
  const sortSel = selectBox('sort', SORTS, sort, 'Sort by');
  let sortTouched = Boolean(explicitSort);
  const form = h('form', { class: 'search', role: 'search' }, qIn, tagIn, sortSel, h('button', { type: 'submit' }, 'Search'));
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
  fill(view, h('h1', {}, q ? 'Search results' : 'Documents'), form, results);

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
    fill(results, h('p', { class: 'muted' }, 'No results to show.'));
    throw e;
  }
  if (!alive()) return;

  const items = Array.isArray(data?.items) ? data.items : [];
  const total = Number.isFinite(data?.total) ? data.total : items.length;
  const size = data?.page_size || PAGE_SIZE;
  const pages = Math.max(1, Math.ceil(total / size));
  const from = items.length ? (page - 1) * size + 1 : 0;
  const to = (page - 1) * size + items.length;

  const filters = [q ? `matching “${q}”` : '', tag ? `tagged “${tag}”` : ''].filter(Boolean).join(' and ');
  const summary = h('p', { class: 'summary' },
    `${total} document${total === 1 ? '' : 's'}${filters ? ' ' + filters : ''}`,
    items.length ? ` · showing ${from}–${to}` : '',
    tag || q ? [' · ', h('a', { href: '#/' }, 'Clear')] : null);

  let list;
  if (items.length) {
    list = h('ul', { class: 'docs' }, items.map(docItem));
  } else if (page > 1 && total > 0) {
    list = h('p', {}, 'This page is past the end of the results.');
  } else {
    list = h('p', { class: 'muted' }, q || tag ? 'Nothing matches. Try other words or clear the filters.'
      : state.me ? 'No documents yet. Upload the first one.' : 'No public documents yet. Log in to see more.');
  }

  const pageLink = (n, text, rel) => (n >= 1 && n <= pages && n !== page
    ? h('a', { class: 'button secondary', rel, href: listHash({ q, tag, sort: explicitSort, page: n }) }, text)
    : h('span', { class: 'button secondary disabled', 'aria-disabled': 'true' }, text));
  const pager = total > size || page > 1
    ? h('nav', { class: 'pager', 'aria-label': 'Pages' },
      pageLink(page - 1, '← Previous', 'prev'),
      h('span', {}, `Page ${page} of ${pages}`),
      pageLink(page + 1, 'Next →', 'next'))
    : null;

  fill(results, summary, list, pager);
}

function docItem(d) {
  return h('li', { class: 'doc' },
    h('a', { class: 'doc-title', href: docHash(d.id) }, d.title || d.filename || 'Untitled'),
    d.snippet
      ? h('p', { class: 'snippet' }, snippetNodes(d.snippet))
      : d.description ? h('p', { class: 'desc muted' }, d.description) : null,
    h('div', { class: 'meta' },
      visBadge(d.visibility),
      tagList(d.tags),
      h('span', { title: 'Size' }, humanSize(d.size)),
      h('span', {}, 'Updated ', timeEl(d.updated_at))));
}

// ---------------------------------------------------------------------------
// Screen: upload

function visibilitySelect(value) {
  return selectBox('visibility', VISIBILITIES, value || 'private', 'Visibility');
}

function renderUpload(view) {
  document.title = 'Upload – docplat';
  if (!state.me) {
    fill(view, h('h1', {}, 'Upload'), h('p', {}, 'You need to ', loginLink('log in'), ' to upload documents.'));
    return;
  }
  const file = h('input', { type: 'file', name: 'file', required: true });
  const title = h('input', { type: 'text', name: 'title', maxlength: 500 });
  const description = h('textarea', { name: 'description', rows: 3 });
  const tags = h('input', { type: 'text', name: 'tags', placeholder: 'contract, 2024' });
  const visibility = visibilitySelect('private');
  const submit = h('button', { type: 'submit' }, 'Upload');
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
    field('File', file),
    field('Title', title, 'Defaults to the file name.'),
    field('Description', description),
    field('Tags', tags, 'Separate tags with commas.'),
    field('Visibility', visibility),
    h('div', { class: 'form-row' }, submit),
    progress.el);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) {
      showError('Choose a file to upload.');
      return;
    }
    if (f.size === 0) {
      showError('The file is empty.');
      return;
    }
    const body = new FormData();
    body.append('file', f, f.name);
    if (title.value.trim()) body.append('title', title.value.trim());
    if (description.value.trim()) body.append('description', description.value.trim());
    const tagList = parseTags(tags.value);
    if (tagList.length) body.append('tags', tagList.join(','));
    body.append('visibility', visibility.value);

    clearBanner();
    submit.disabled = true;
    progress.start();
    try {
      const doc = await upload('POST', '/documents', body, {}, progress.update);
      flash('info', `Uploaded “${doc?.title || f.name}”.`);
      go(doc?.id ? docHash(doc.id) : '#/');
    } catch (err) {
      // 413 too_large, 415 unsupported_type, 409 quota_exceeded, ...: the server says why.
      showError(err);
    } finally {
      submit.disabled = false;
      progress.stop();
    }
  });

  fill(view, h('h1', {}, 'Upload a document'), form);
}

// ---------------------------------------------------------------------------
// Screen: document view

function canManage(doc) {
  const me = state.me;
  if (!me) return false;
  if (me.id === doc.owner_id || me.role === 'admin') return true;
  return me.role === 'dept_admin' && me.department_id != null && me.department_id === doc.department_id;
}

// metadataTag is the If-Match value for PATCH: the metadata ETag "r<revision>".
function metadataTag(doc, etag) {
  if (doc.revision != null && doc.revision !== '') return `"r${doc.revision}"`;
  return etag || '';
}

async function renderDoc(view, id, alive) {
  document.title = 'Document – docplat';
  fill(view, loading());
  let doc;
  let etag;
  try {
    const res = await request('GET', docPath(id));
    etag = res.headers.get('ETag') || '';
    doc = readJSON(res.status, await res.text());
  } catch (e) {
    if (!alive()) return;
    if (e.status === 404) {
      document.title = 'Not found – docplat';
      fill(view, 
        h('h1', {}, 'Document not found'),
        h('p', {}, 'It does not exist, or you are not allowed to see it.'),
        state.me ? null : h('p', {}, loginLink('Log in'), ' to see documents shared with you.'),
        h('p', {}, h('a', { href: '#/' }, 'Back to documents')));
      return;
    }
    fill(view, h('p', {}, h('a', { href: '#/' }, 'Back to documents')));
    throw e;
  }
  if (!alive() || !doc) return;
  document.title = `${doc.title || 'Untitled'} – docplat`;

  const row = (label, value) => [h('dt', {}, label), h('dd', {}, value)];
  const owner = state.me && doc.owner_id === state.me.id ? 'You' : doc.owner_id || '—';
  const details = h('dl', { class: 'meta-grid' },
    row('Visibility', visBadge(doc.visibility)),
    row('File', doc.filename || '—'),
    row('Type', doc.mime || '—'),
    row('Size', humanSize(doc.size)),
    row('Version', doc.version != null ? String(doc.version) : '—'),
    row('Owner', owner),
    row('Department', doc.department_id || '—'),
    row('Created', timeEl(doc.created_at)),
    row('Updated', timeEl(doc.updated_at)),
    row('SHA-256', h('code', { class: 'hash' }, doc.sha256 || '—')));

  fill(view, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Documents')),
    h('h1', { class: 'doc-heading' }, doc.title || 'Untitled'),
    doc.description ? h('p', { class: 'description' }, doc.description) : null,
    tagList(doc.tags),
    h('div', { class: 'actions' },
      h('a', { class: 'button', href: `${contentURL(doc.id)}?download=1`, download: '' }, 'Download')),
    section('Details', details),
    section('Preview', preview(doc, alive)),
    section('Versions', versionList(doc, alive)),
    canManage(doc) ? manage(doc, etag, alive) : null);
}

function isText(mime) {
  return mime.startsWith('text/') || /^application\/([\w.+-]+\+)?(json|xml)$/.test(mime);
}

function preview(doc, alive) {
  const mime = String(doc.mime || '').toLowerCase().split(';')[0].trim();
  if (!doc.size) return h('p', { class: 'muted' }, 'The file is empty.');
  if (isText(mime)) {
    const box = h('div', {}, loading('Loading preview…'));
    textPreview(doc).then((nodes) => alive() && fill(box, ...nodes))
      .catch((e) => alive() && fill(box, h('p', { class: 'error-text' }, `Preview unavailable: ${e.message}`)));
    return box;
  }
  if (mime.startsWith('image/')) {
    const box = h('figure', { class: 'preview-image' }, loading('Loading image…'));
    imagePreview(doc).then((img) => alive() && fill(box, img))
      .catch((e) => alive() && fill(box, h('p', { class: 'error-text' }, `Preview unavailable: ${e.message}`)));
    return box;
  }
  return h('p', { class: 'muted' }, `No preview for ${mime || 'this type of file'}. Use Download to open it.`);
}

// textPreview fetches at most PREVIEW_BYTES of the content and shows it as
// text in a <pre>. UTF-8 first; text that is not UTF-8 is tried as GB18030,
// the usual encoding of older Chinese files.
async function textPreview(doc) {
  const res = await request('GET', `${docPath(doc.id)}/content`, {
    accept: '*/*',
    headers: { Range: `bytes=0-${PREVIEW_BYTES - 1}` },
  });
  let bytes = new Uint8Array(await res.arrayBuffer());
  const truncated = bytes.length > PREVIEW_BYTES || (res.status === 206 && Number(doc.size) > PREVIEW_BYTES);
  if (bytes.length > PREVIEW_BYTES) bytes = bytes.subarray(0, PREVIEW_BYTES);

  const charset = /charset=([^;]+)/i.exec(doc.mime || '')?.[1]?.trim().replace(/^"|"$/g, '');
  let text;
  try {
    // stream: true tolerates a multi-byte character cut by the range.
    text = new TextDecoder(charset || 'utf-8', { fatal: true }).decode(bytes, { stream: truncated });
  } catch {
    text = new TextDecoder(charset ? 'utf-8' : 'gb18030').decode(bytes, { stream: truncated });
  }
  return [
    h('pre', { class: 'preview-text', tabindex: 0 }, text),
    truncated ? h('p', { class: 'muted' }, `Showing the first ${humanSize(PREVIEW_BYTES)} of ${humanSize(doc.size)}. Download for the whole file.`) : null,
  ];
}

// imagePreview loads the bytes with fetch (revalidated with the ETag, so a
// new version is never hidden by the browser cache) and shows them from a blob URL.
async function imagePreview(doc) {
  const res = await request('GET', `${docPath(doc.id)}/content`, { accept: '*/*' });
  const url = URL.createObjectURL(await res.blob());
  const img = h('img', { src: url, alt: doc.title || 'Preview' });
  const release = () => URL.revokeObjectURL(url);
  img.addEventListener('load', release, { once: true });
  img.addEventListener('error', () => {
    release();
    img.replaceWith(h('p', { class: 'muted' }, 'This image cannot be displayed by the browser. Use Download to open it.'));
  }, { once: true });
  return img;
}

function versionList(doc, alive) {
  const box = h('div', {}, loading('Loading versions…'));
  api('GET', `${docPath(doc.id)}/versions?page_size=100`).then((data) => {
    if (!alive()) return;
    const items = (Array.isArray(data) ? data : data?.items || []).slice().sort((a, b) => b.version - a.version);
    if (!items.length) {
      fill(box, h('p', { class: 'muted' }, 'No versions recorded.'));
      return;
    }
    const total = Number.isFinite(data?.total) ? data.total : items.length;
    fill(box, 
      h('ul', { class: 'versions' }, items.map((v) => h('li', {},
        h('a', { href: `${API}${docPath(doc.id)}/versions/${enc(v.version)}/content`, download: '' }, `Version ${v.version}`),
        v.version === doc.version ? h('span', { class: 'badge' }, 'current') : null,
        h('span', { class: 'muted' }, humanSize(v.size)),
        h('span', { class: 'muted' }, timeEl(v.created_at)),
        v.created_by ? h('span', { class: 'muted' }, `by ${state.me && v.created_by === state.me.id ? 'you' : v.created_by}`) : null))),
      total > items.length ? h('p', { class: 'muted' }, `Showing the newest ${items.length} of ${total} versions.`) : null);
  }).catch((e) => {
    if (alive()) fill(box, h('p', { class: 'error-text' }, `Could not load versions: ${e.message}`));
  });
  return box;
}

const CHANGED_MESSAGE = 'This document was changed by someone else since you opened it. '
  + 'It has been reloaded: check the current state and try again.';

function manage(doc, etag, alive) {
  // --- new content version
  const file = h('input', { type: 'file', name: 'file', required: true });
  const sendBtn = h('button', { type: 'submit' }, 'Upload new version');
  const progress = progressBar();
  const versionForm = h('form', {},
    h('h3', {}, 'New version'),
    field('File', file, `Replaces version ${doc.version}; older versions stay available.`),
    sendBtn,
    progress.el);
  versionForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = file.files[0];
    if (!f) {
      showError('Choose a file to upload.');
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
      flash('info', `Uploaded version ${updated?.version ?? Number(doc.version) + 1}.`);
      route();
    } catch (err) {
      if (err.status === 412 && alive()) {
        flash('error', CHANGED_MESSAGE);
        route();
      } else {
        showError(err);
      }
    } finally {
      sendBtn.disabled = false;
      progress.stop();
    }
  });

  // --- metadata
  const title = h('input', { type: 'text', name: 'title', value: doc.title || '', required: true, maxlength: 500 });
  const description = h('textarea', { name: 'description', rows: 3, value: doc.description || '' });
  const tags = h('input', { type: 'text', name: 'tags', value: (doc.tags || []).join(', ') });
  const visibility = visibilitySelect(doc.visibility);
  const saveBtn = h('button', { type: 'submit' }, 'Save changes');
  const editForm = h('form', {},
    h('h3', {}, 'Details'),
    field('Title', title),
    field('Description', description),
    field('Tags', tags, 'Separate tags with commas.'),
    field('Visibility', visibility),
    saveBtn);
  editForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const patch = {};
    if (title.value.trim() !== (doc.title || '')) patch.title = title.value.trim();
    if (description.value.trim() !== (doc.description || '').trim()) patch.description = description.value.trim();
    const newTags = parseTags(tags.value);
    if (newTags.join('\n') !== (doc.tags || []).join('\n')) patch.tags = newTags;
    if (visibility.value !== doc.visibility) patch.visibility = visibility.value;
    if (Object.keys(patch).length === 0) {
      showInfo('Nothing to save: no field changed.');
      return;
    }
    const ifMatch = metadataTag(doc, etag);
    clearBanner();
    saveBtn.disabled = true;
    try {
      await api('PATCH', docPath(doc.id), { json: patch, headers: ifMatch ? { 'If-Match': ifMatch } : {} });
      if (!alive()) return;
      flash('info', 'Changes saved.');
      route();
    } catch (err) {
      if (err.status === 412 && alive()) {
        flash('error', CHANGED_MESSAGE);
        route();
      } else {
        showError(err);
      }
    } finally {
      saveBtn.disabled = false;
    }
  });

  // --- delete
  const deleteBtn = h('button', { type: 'button', class: 'danger' }, 'Delete document');
  deleteBtn.addEventListener('click', async () => {
    if (!confirm(`Delete “${doc.title || 'this document'}” and all its versions? This cannot be undone.`)) return;
    deleteBtn.disabled = true;
    try {
      await api('DELETE', docPath(doc.id));
      flash('info', `Deleted “${doc.title || 'the document'}”.`);
      go('#/');
    } catch (err) {
      showError(err);
      deleteBtn.disabled = false;
    }
  });

  return section('Manage',
    h('div', { class: 'manage-grid' }, editForm, versionForm),
    h('hr', {}),
    h('div', { class: 'form-row' }, deleteBtn, h('span', { class: 'muted' }, 'Deletes every version, grant and share link.')));
}

// ---------------------------------------------------------------------------
// Start-up

window.addEventListener('hashchange', () => {
  if (state.xhr) {
    if (!confirm('An upload is in progress. Leave this page and cancel it?')) {
      history.replaceState(null, '', currentHash || '#/');
      return;
    }
    state.xhr.abort();
  }
  route();
});

window.addEventListener('beforeunload', (e) => {
  if (state.xhr) {
    e.preventDefault();
    e.returnValue = '';
  }
});

async function start() {
  try {
    state.me = await api('GET', '/me');
  } catch (e) {
    state.me = null; // 401: browse anonymously
    if (e.status !== 401) flash('error', `Could not check your login: ${e.message}`);
  }
  route();
}

start();
