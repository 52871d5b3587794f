// The document screen's preview panel: what the server's preview API
// (GET /documents/{id}/versions/{n}/preview, documentation/api.md
// "Previews") answers for one version: sanitized Markdown HTML, decoded
// text, page images of PDFs and Office files, an image's thumbnail, that
// they are still being generated (kind pending: asked again shortly), or
// why there is none.
import { h, fill, loading } from '../dom.js?v=__ASSET_VERSION__';
import { API, api, request } from '../api.js?v=__ASSET_VERSION__';
import { t, humanSize } from '../i18n.js?v=__ASSET_VERSION__';
import { docPath } from '../router.js?v=__ASSET_VERSION__';

const enc = encodeURIComponent;

// The widths the server generates page images at (it rounds a request up
// to one of them): asking for exactly these keeps one cached image per width.
const PAGE_WIDTHS = [480, 960, 1440];

// How long to wait before asking again for a preview being generated.
const PENDING_RETRY_MS = 5000;

// versionPath names one version, so that neither the JSON (revalidated by
// its ETag) nor a page image (cached as immutable) of an older version can
// answer for a newer one.
function versionPath(doc) {
  return doc.version != null ? `${docPath(doc.id)}/versions/${enc(doc.version)}` : docPath(doc.id);
}

// previewPanel returns the panel's body at once and fills it when the
// preview arrives (if the screen is still shown: alive()).
export function previewPanel(doc, alive) {
  const box = h('div', { class: 'preview', tabindex: -1 });
  if (!doc.size) return fill(box, h('p', { class: 'muted' }, t('preview.empty')));
  const mime = String(doc.mime || '').toLowerCase().split(';')[0].trim();
  const load = async (again = false) => {
    try {
      if (!again) fill(box, loading(t('preview.loading')));
      const p = await api('GET', `${versionPath(doc)}/preview`);
      if (!alive()) return;
      if (p.kind === 'pending') {
        // Generated off the request path after the upload: ask again.
        if (!again) fill(box, h('p', { class: 'muted preview-pending', role: 'status' }, t('preview.pending')));
        setTimeout(() => alive() && load(true), PENDING_RETRY_MS);
        return;
      }
      fill(box, ...shown(doc, mime, p, alive));
    } catch (e) {
      if (alive()) fill(box, failure(e, load));
    }
  };
  load();
  return box;
}

// failure says why a preview cannot be shown, in the UI's language; a busy
// server (503: api.js has already retried as Retry-After advised) offers
// to try again.
function failure(e, retry) {
  if (e.status === 422) return h('p', { class: 'error-text' }, t('preview.unreadable'));
  if (e.status === 503) {
    return h('div', { class: 'preview-failure' },
      h('p', { class: 'error-text' }, t('preview.busy')),
      h('button', {
        type: 'button',
        class: 'secondary',
        onclick: (ev) => {
          // The button goes with the message: keep focus in the panel.
          const panel = ev.currentTarget.closest('.preview');
          retry();
          panel?.focus({ preventScroll: true });
        },
      }, t('preview.retry')));
  }
  return h('p', { class: 'error-text' }, t('preview.unavailable', { message: e.message }));
}

function shown(doc, mime, p, alive) {
  const cut = p.truncated ? h('p', { class: 'muted' }, t('preview.cut', { size: humanSize(doc.size) })) : null;
  switch (p.kind) {
    case 'html':
      return [markdown(p.html), cut];
    case 'text':
      return [
        h('p', { class: 'muted preview-charset' }, t('preview.charset', { charset: p.charset || 'utf-8' })),
        h('pre', { class: 'preview-text', tabindex: 0 }, p.text || ''),
        cut];
    case 'pdf':
    case 'office':
      return [pdfPages(doc, Number(p.pages) || 0, alive),
        p.total_pages > p.pages ? h('p', { class: 'muted' }, t('preview.firstPages', { n: p.pages, total: p.total_pages })) : null];
    case 'image':
      return [imagePreview(doc)];
    default:
      return [
        h('p', { class: 'muted' }, t('preview.none', { mime: mime || t('preview.noneType') })),
        p.reason ? h('p', { class: 'muted' }, t('preview.reason', { reason: p.reason })) : null];
  }
}

// markdown inserts the server's rendered Markdown as HTML: the one place
// the UI parses markup, and only this endpoint's, which the server has
// sanitized (bluemonday: no script, event handler, style, iframe or form;
// images only from this server's content). The page's CSP (script-src
// 'self', no inline script) stays as it is behind that, and DOMParser
// builds inert nodes: a script in them would not run when moved here.
function markdown(html) {
  const parsed = new DOMParser().parseFromString(String(html || ''), 'text/html');
  // The document's headings sit under the panel's <h2>, and the screen has
  // one <h1>: # becomes <h3>, and so on down to <h6>.
  for (const el of [...parsed.body.querySelectorAll('h1, h2, h3, h4, h5, h6')].reverse()) {
    const level = Math.min(Number(el.tagName[1]) + 2, 6);
    const sub = parsed.createElement(`h${level}`);
    if (el.id) sub.id = el.id;
    sub.append(...el.childNodes);
    el.replaceWith(sub);
  }
  // A task list's checkboxes (read-only) are named by their item's text.
  for (const input of parsed.body.querySelectorAll('input[type=checkbox]')) {
    input.setAttribute('aria-label', input.closest('li')?.textContent.trim() || t('preview.task'));
  }
  const box = h('div', { class: 'preview-html' }, [...parsed.body.childNodes]);
  // A "#section" link would change the route: scroll to the target instead.
  box.addEventListener('click', (e) => {
    const a = e.target.closest?.('a[href^="#"]');
    if (!a || !box.contains(a)) return;
    e.preventDefault();
    const id = decodeURIComponent(a.getAttribute('href').slice(1));
    [...box.querySelectorAll('[id]')].find((el) => el.id === id)?.scrollIntoView();
  });
  return box;
}

// pdfPages shows one page image at a time with previous/next; the image
// is asked for at the panel's width in device pixels and loads lazily
// (only when scrolled into view).
function pdfPages(doc, pages, alive) {
  if (pages < 1) return h('p', { class: 'muted' }, t('preview.noPages'));
  let page = 1;
  const status = h('span', { class: 'pdf-status', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'secondary' }, t('preview.prevPage'));
  const next = h('button', { type: 'button', class: 'secondary' }, t('preview.nextPage'));
  const frame = h('div', { class: 'pdf-page' });
  const box = h('div', { class: 'preview-pdf' },
    h('nav', { class: 'pdf-nav', 'aria-label': t('preview.pages') }, prev, status, next),
    frame);

  const width = () => {
    const want = Math.ceil((frame.clientWidth || box.clientWidth || 960) * (window.devicePixelRatio || 1));
    return PAGE_WIDTHS.find((w) => w >= want) ?? PAGE_WIDTHS[PAGE_WIDTHS.length - 1];
  };
  const pageURL = (n) => `${versionPath(doc)}/preview?page=${n}&width=${width()}`;

  // show draws page n; again: the page failed once and is being retried.
  const show = (n, again = false) => {
    page = n;
    status.textContent = t('preview.pageOf', { n, total: pages });
    const focused = document.activeElement;
    prev.disabled = n <= 1;
    next.disabled = n >= pages;
    // Keep focus on the bar when the button pressed has just been disabled.
    if (focused?.disabled) (focused === prev ? next : prev).focus();
    const url = pageURL(n);
    const img = h('img', { src: API + url, alt: t('preview.pageOf', { n, total: pages }), loading: 'lazy', decoding: 'async' });
    img.addEventListener('error', () => pageFailed(img, url, n, again), { once: true });
    fill(frame, img);
  };

  // An <img> does not say why it failed: ask again through api.js, which
  // waits out a busy server's Retry-After and reports the status; if that
  // works, show the page once more.
  const pageFailed = async (img, url, n, again) => {
    try {
      await request('GET', url, { accept: 'image/png' });
      if (!alive() || page !== n || !img.isConnected) return;
      if (again) fill(frame, h('p', { class: 'error-text' }, t('preview.badPage')));
      else show(n, true);
    } catch (e) {
      if (alive() && page === n && img.isConnected) fill(frame, failure(e, () => show(n)));
    }
  };

  prev.addEventListener('click', () => page > 1 && show(page - 1));
  next.addEventListener('click', () => page < pages && show(page + 1));
  // The frame has its width once the panel is in the page.
  requestAnimationFrame(() => alive() && show(1));
  return box;
}

// imagePreview shows the image's thumbnail at the panel's width (the
// server downscales it; never wider than the image itself).
function imagePreview(doc) {
  const frame = h('figure', { class: 'preview-image' });
  requestAnimationFrame(() => {
    const want = Math.ceil((frame.clientWidth || 960) * (window.devicePixelRatio || 1));
    const width = PAGE_WIDTHS.find((w) => w >= want) ?? PAGE_WIDTHS[PAGE_WIDTHS.length - 1];
    const img = h('img', { src: `${API}${versionPath(doc)}/preview?page=1&width=${width}`, alt: doc.title || t('doc.preview'), decoding: 'async' });
    img.addEventListener('error', () => img.replaceWith(h('p', { class: 'muted' }, t('preview.badImage'))), { once: true });
    fill(frame, img);
  });
  return frame;
}
