// Runs the UI's request() against a scripted fetch, in node (see
// retry_test.go): idempotent requests refused with 503 + Retry-After are
// resent after the advised delay; writes without an Idempotency-Key are not.
import fs from 'node:fs';
import vm from 'node:vm';
import assert from 'node:assert/strict';

// anything: a stand-in DOM object on which every property and call works.
const anything = new Proxy(function () {}, {
  get: (_, k) => (k === Symbol.toPrimitive ? () => '' : k === 'then' ? undefined : anything),
  apply: () => anything,
  construct: () => anything,
  set: () => true,
});

const src = fs.readFileSync(process.argv[2], 'utf8').replace(/\nstart\(\);\s*$/, '\n');
const delays = [];
let answers = [];
const sent = [];
const ctx = vm.createContext({
  window: anything, document: anything, location: { hash: '' }, history: anything,
  Node: class {}, confirm: () => true, console, Headers, URLSearchParams, Math, JSON, Number, String, Error, Promise, Set, Map, Object,
  setTimeout: (f, ms) => { delays.push(ms); f(); },
  fetch: async (url, init) => {
    sent.push({ url, method: init.method, key: init.headers.get('Idempotency-Key') });
    const [status, retryAfter] = answers.shift();
    const headers = new Headers(retryAfter == null ? {} : { 'Retry-After': String(retryAfter) });
    const body = status >= 400 ? JSON.stringify({ error: { code: 'unavailable', message: 'busy' } }) : '{}';
    return new Response(status === 204 ? null : body, { status, headers });
  },
});
vm.runInContext(src + '\n;globalThis.request = request;', ctx);

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
