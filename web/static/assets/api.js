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
