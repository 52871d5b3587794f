// Hash routes and links between screens. The router itself lives in app.js
// and registers here, so screens can navigate without importing app.js.
const enc = encodeURIComponent;

let router = () => {};

// setRouter is called once by app.js with its route function.
export function setRouter(f) {
  router = f;
}

// rerender draws the current screen again (after a save, a language switch).
export function rerender() {
  return router();
}

// go navigates to hash, redrawing even when it is the current one.
export function go(hash) {
  if (location.hash === hash) router();
  else location.hash = hash;
}

export const docHash = (id) => `#/doc/${enc(id)}`;
export const docPath = (id) => `/documents/${enc(id)}`;

export function listHash({ q = '', tag = '', sort = '', page = 1 } = {}) {
  const p = new URLSearchParams();
  if (q) p.set('q', q);
  if (tag) p.set('tag', tag);
  if (sort) p.set('sort', sort);
  if (page > 1) p.set('page', String(page));
  const s = p.toString();
  return s ? `#/?${s}` : '#/';
}

export function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const qi = raw.indexOf('?');
  return {
    path: qi >= 0 ? raw.slice(0, qi) : raw,
    params: new URLSearchParams(qi >= 0 ? raw.slice(qi + 1) : ''),
  };
}
