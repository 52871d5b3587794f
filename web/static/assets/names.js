// People, not ids: user and department ids become display names through
// GET /api/v1/directory?ids=, asked once per id for the life of the page
// (ids of one screen go in one request).
import { h } from './dom.js?v=__ASSET_VERSION__';
import { api } from './api.js?v=__ASSET_VERSION__';
import { t } from './i18n.js?v=__ASSET_VERSION__';
import { state } from './state.js?v=__ASSET_VERSION__';

const known = new Map(); // id -> Promise<string|null>
let pending = null; // ids waiting for the next batch, with their resolvers

function lookup(id) {
  if (known.has(id)) return known.get(id);
  if (!pending) {
    pending = new Map();
    // Gather the ids the current screen asks for in this turn, then ask once.
    queueMicrotask(flush);
  }
  const p = new Promise((resolve) => pending.set(id, resolve));
  known.set(id, p);
  return p;
}

async function flush() {
  const batch = pending;
  pending = null;
  const ids = [...batch.keys()];
  let names = {};
  try {
    const d = await api('GET', `/directory?ids=${ids.map(encodeURIComponent).join(',')}`);
    names = { ...(d?.departments || {}), ...(d?.users || {}) };
  } catch {
    // Unresolved names fall back to "Unknown"; forget them so a later screen asks again.
    for (const id of ids) known.delete(id);
  }
  for (const [id, resolve] of batch) resolve(names[id] ?? null);
}

// nameEl shows the name of a user or department id: "You" for the caller,
// then the directory's answer, or "Unknown" if the caller may not see it.
export function nameEl(id) {
  if (!id) return h('span', {}, '—');
  if (state.me && id === state.me.id) return h('span', { class: 'person' }, t('common.you'));
  const el = h('span', { class: 'person' }, '…');
  if (!state.me) {
    el.textContent = t('names.unknown');
    return el;
  }
  lookup(id).then((name) => {
    el.textContent = name || t('names.unknown');
  });
  return el;
}
