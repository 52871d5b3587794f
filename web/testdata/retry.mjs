// Runs the UI's request() (assets/api.js) against a scripted fetch, in node (see
// retry_test.go): idempotent requests refused with 503 + Retry-After are
// resent after the advised delay; writes without an Idempotency-Key are not.
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';

const delays = [];
let answers = [];
const sent = [];
globalThis.setTimeout = (f, ms) => { delays.push(ms); f(); };
globalThis.fetch = async (url, init) => {
  sent.push({ url, method: init.method, key: init.headers.get('Idempotency-Key') });
  const [status, retryAfter] = answers.shift();
  const headers = new Headers(retryAfter == null ? {} : { 'Retry-After': String(retryAfter) });
  const body = status >= 400 ? JSON.stringify({ error: { code: 'unavailable', message: 'busy' } }) : '{}';
  return new Response(status === 204 ? null : body, { status, headers });
};
// api.js is an ES module that touches no DOM when imported; its sibling
// imports carry the unreplaced ?v= placeholder, which node resolves as files.
const ctx = await import(pathToFileURL(process.argv[2]).href);

// A GET refused twice is resent after each advised delay, then succeeds.
answers = [[503, 2], [503, 1], [200]];
const res = await ctx.request('GET', '/documents?q=x');
assert.equal(res.status, 200);
assert.equal(sent.length, 3);
assert.ok(delays[0] >= 2000 && delays[0] < 3000 && delays[1] >= 1000 && delays[1] < 2000, `delays ${delays}`);

// A GET refused more than RETRY_LIMIT times gives up with the advice.
sent.length = 0;
answers = [[503, 1], [503, 1], [503, 1], [503, 1]];
await assert.rejects(ctx.request('GET', '/documents'), (e) => e.status === 503 && /Try again in 1 s/.test(e.message));
assert.equal(sent.length, 4);

// A write without an Idempotency-Key is not resent; its error says when to retry.
sent.length = 0;
answers = [[503, 3]];
await assert.rejects(ctx.request('PATCH', '/documents/d1', { json: { title: 't' } }), (e) => e.status === 503 && /Try again in 3 s/.test(e.message));
assert.equal(sent.length, 1);

// With a key it is resent, with the same key.
sent.length = 0;
answers = [[503, 1], [201]];
await ctx.request('POST', '/documents', { body: 'x', headers: { 'Idempotency-Key': 'k1' } });
assert.deepEqual(sent.map((s) => s.key), ['k1', 'k1']);

// A 503 without Retry-After is not resent.
sent.length = 0;
answers = [[503, null]];
await assert.rejects(ctx.request('GET', '/documents'), (e) => e.status === 503 && !/Try again/.test(e.message));
assert.equal(sent.length, 1);
console.log('ok');
