// The JSON API client (contract: shared/API.md, /api/openapi.json): fetch
// with CSRF and retries, errors as ApiError with a message in the UI's
// language, and uploads with progress. It draws nothing itself: app.js
// plugs the banner and the top bar into `hooks`.
import { t, humanSize } from './i18n.js?v=__ASSET_VERSION__';
import { state } from './state.js?v=__ASSET_VERSION__';

export const API = '/api/v1';
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export const hooks = {
  sessionEnded: () => {}, // a request answered 401 while state.me was set
  retrying: (seconds) => {}, // a refused request will be resent after seconds
  recovered: () => {}, // a resent request succeeded
};

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details; // the error body's details, when the server gives figures
  }
}

function cookie(name) {
  for (const part of (globalThis.document?.cookie || '').split(';')) {
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

const trimEnd = (s) => s.replace(/[.。\s]+$/, '');

// errorFrom turns a failed answer into an ApiError carrying the server's message.
function errorFrom(status, text, path) {
  let code = '';
  let message = '';
  let details = null;
  try {
    const e = JSON.parse(text)?.error;
    if (e) {
      code = String(e.code || '');
      message = String(e.message || '');
      if (e.details && typeof e.details === 'object') details = e.details;
    }
  } catch {
    // Not JSON: a proxy's error page. Fall back to a generic message.
  }
  if (!message) message = FALLBACK_STATUSES.has(status) ? t(`err.${status}`) : t('err.status', { status });
  if (code === 'quota_exceeded' && details) message = quotaMessage(details);
  const err = new ApiError(status, code || `http_${status}`, message, details);
  if (status === 401 && state.me && !path.startsWith('/auth/')) {
    // The session ended under us (expired or logged out elsewhere).
    state.me = null;
    hooks.sessionEnded();
    err.message = t('err.sessionEnded', { message: trimEnd(message) });
  }
  return err;
}

// quotaMessage says how far over the quota an upload went, in the UI's language.
function quotaMessage(d) {
  const vars = { size: humanSize(d.size), quota: humanSize(d.quota_bytes), used: humanSize(d.bytes_used) };
  return t(d.bytes_used == null ? 'err.quotaSize' : 'err.quotaFigures', vars);
}

const FALLBACK_STATUSES = new Set([400, 401, 403, 404, 409, 412, 413, 415, 429, 502, 503, 504]);

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
  if (wait !== null) err.message = t('err.retryIn', { message: trimEnd(err.message), seconds: Math.max(wait, 1) });
  return err;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// request performs a fetch against the API and throws ApiError unless 2xx.
// cache is fetch's cache mode: 'no-cache' (revalidate) unless the caller
// must bypass the browser cache entirely ('no-store').
export async function request(method, path, { json, body, headers = {}, accept = 'application/json', cache = 'no-cache' } = {}) {
  const hdrs = new Headers(headers);
  hdrs.set('Accept', accept);
  if (json !== undefined) {
    hdrs.set('Content-Type', 'application/json');
    body = JSON.stringify(json);
  }
  if (UNSAFE_METHODS.has(method)) {
    const tok = csrfToken();
    if (tok) hdrs.set('X-CSRF-Token', tok);
  }
  for (let attempt = 0; ; attempt++) {
    let res;
    try {
      res = await fetch(API + path, { method, headers: hdrs, body, credentials: 'same-origin', cache });
    } catch {
      throw new ApiError(0, 'network', t('err.network'));
    }
    if (res.ok) {
      if (attempt > 0) hooks.recovered();
      return res;
    }
    const text = await res.text().catch(() => '');
    const wait = res.status === 503 || res.status === 429 ? retryAfterSeconds(res.headers.get('Retry-After')) : null;
    if (wait !== null && attempt < RETRY_LIMIT && retriable(method, hdrs)) {
      hooks.retrying(Math.max(wait, 1));
      // A little jitter so that many pages refused together do not return together.
      await sleep((Math.max(wait, 1) + Math.random()) * 1000);
      continue;
    }
    throw withRetryAdvice(errorFrom(res.status, text, path), wait);
  }
}

// api is request plus JSON decoding (null for 204 and empty bodies).
export async function api(method, path, opts) {
  const res = await request(method, path, opts);
  return readJSON(res.status, await res.text());
}

export function readJSON(status, text) {
  if (status === 204 || !text) return null;
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(status, 'bad_response', t('err.badResponse'));
  }
}

// upload sends multipart form data with XMLHttpRequest, which (unlike fetch)
// reports upload progress. onProgress(fraction, sent) is called as bytes go out.
export function upload(method, path, form, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, API + path);
    xhr.setRequestHeader('Accept', 'application/json');
    const tok = csrfToken();
    if (tok) xhr.setRequestHeader('X-CSRF-Token', tok);
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
      reject(new ApiError(0, 'network', t('err.uploadLost')));
    };
    xhr.onabort = () => {
      state.xhr = null;
      reject(new ApiError(0, 'aborted', t('err.uploadCancelled')));
    };
    state.xhr = xhr;
    xhr.send(form);
  });
}

// The tus client (vendor/tus.min.js, tus-js-client) is a classic script
// that sets window.tus; it is loaded on first use only.
let tusLoading = null;
function loadTus() {
  tusLoading ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = new URL('./vendor/tus.min.js?v=__ASSET_VERSION__', import.meta.url).href;
    s.onload = () => resolve(globalThis.tus);
    s.onerror = () => {
      tusLoading = null;
      reject(new ApiError(0, 'network', t('err.uploadLost')));
    };
    document.head.append(s);
  });
  return tusLoading;
}

// chunkOf: at least four pieces, so a break costs at most a quarter of a
// small file, and at most 4 MiB per request for a large one.
const chunkOf = (size) => Math.min(4 << 20, Math.max(256 << 10, Math.ceil(size / 4)));

// resumableUpload sends file through the tus endpoint (/api/v1/uploads/):
// it survives broken connections (tus-js-client retries and resumes from
// the offset the server has), is paused and resumed on demand, and waits
// for the browser to be online again after a network break. metadata
// carries the document's fields (filename, title, tags, visibility,
// description, or document_id and if_match for a new version). on.progress
// (fraction), on.state ('uploading' | 'paused' | 'offline' | 'processing')
// follow it. The promise resolves to the upload's outcome as
// GET /api/v1/uploads/{id} gives it (state done, document_id) or rejects
// with the server's refusal (quota, type, precondition...).
export function resumableUpload(file, metadata, on = {}) {
  let upload = null;
  let paused = false;
  let settle;
  const done = new Promise((resolve, reject) => { settle = { resolve, reject }; });
  const online = () => {
    if (upload && !paused) {
      on.state?.('uploading');
      upload.start();
    }
  };
  const finish = async () => {
    window.removeEventListener('online', online);
    state.xhr = null;
    on.state?.('processing');
    // The final PATCH wrote the document; GET gives it (and finishes an
    // upload whose last answer was lost).
    const id = encodeURIComponent(upload.url.split('/').pop());
    for (let i = 0; ; i++) {
      const out = await api('GET', '/uploads/' + id);
      if (out?.state === 'done' || i >= 60) {
        settle.resolve(out);
        return;
      }
      if (out?.state === 'failed') {
        settle.reject(errorFrom(out.error_status || 409, JSON.stringify({ error: out.error }), '/uploads/'));
        return;
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  };
  const fail = (err) => {
    window.removeEventListener('online', online);
    state.xhr = null;
    const res = err?.originalResponse;
    if (res && res.getStatus() >= 400) {
      settle.reject(errorFrom(res.getStatus(), res.getBody(), '/uploads/'));
    } else if (!navigator.onLine) {
      // tus-js-client does not retry while offline: wait for the network.
      window.addEventListener('online', online, { once: true });
      on.state?.('offline');
      return;
    } else {
      settle.reject(new ApiError(0, 'network', t('err.uploadLost')));
    }
  };
  const ctl = {
    done,
    pause() {
      paused = true;
      upload?.abort();
      on.state?.('paused');
    },
    resume() {
      paused = false;
      on.state?.('uploading');
      upload?.start();
    },
    // cancel stops the upload and removes what the server has of it.
    abort() {
      paused = true;
      window.removeEventListener('online', online);
      state.xhr = null;
      upload?.abort(true).catch(() => {});
      settle.reject(new ApiError(0, 'aborted', t('err.uploadCancelled')));
    },
  };
  loadTus().then((tus) => {
    const headers = {};
    const tok = csrfToken();
    if (tok) headers['X-CSRF-Token'] = tok;
    upload = new tus.Upload(file, {
      endpoint: API + '/uploads/',
      metadata,
      headers,
      chunkSize: chunkOf(file.size),
      retryDelays: [0, 1000, 3000, 5000, 10000],
      // Retry what a retry can fix (the network, 5xx, 423 locked, 409
      // conflict: a stale offset or a finish in progress); a refusal
      // (quota, size, type, precondition) is shown at once.
      onShouldRetry: (err) => {
        const res = err?.originalResponse;
        if (!res) return navigator.onLine;
        const status = res.getStatus();
        if (status === 423 || status >= 500) return true;
        if (status !== 409) return false;
        try {
          return JSON.parse(res.getBody())?.error?.code === 'conflict';
        } catch {
          return true;
        }
      },
      removeFingerprintOnSuccess: true,
      onProgress: (sent, total) => on.progress?.(total > 0 ? sent / total : 0),
      onSuccess: () => finish().catch((e) => settle.reject(e)),
      onError: fail,
    });
    state.xhr = ctl; // leaving the page asks first, then cancels (app.js)
    on.state?.('uploading');
    // A file this browser began to send before (a reload, a crash) resumes.
    return upload.findPreviousUploads().then((previous) => {
      if (previous.length) upload.resumeFromPreviousUpload(previous[0]);
      if (!paused) upload.start();
    });
  }).catch((e) => settle.reject(e));
  return ctl;
}
