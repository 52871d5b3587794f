// The resumable upload scenario (tus): a teacher uploads a handout over a
// connection that breaks mid-upload (the browser goes offline and a PATCH
// is cut): the screen says it will resume, and once the network is back the
// upload resumes from the offset the server kept, not from zero. Then a
// refusal over the quota shown at once, and a pause and resume in Chinese
// on a slow connection. Each time the stored document has exactly
// the bytes chosen (sha256).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'playwright-core';
import { launch, newPage, login, shot, checkA11y, env, BASE } from './lib.mjs';

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// handout is about size bytes of text (the test server takes up to 1 MiB).
function handout(size, line) {
  const lines = [];
  for (let i = 0, n = 0; n < size; i++) {
    lines.push(`${line} ${i}\n`);
    n += Buffer.byteLength(lines[i]);
  }
  return Buffer.from(lines.join(''));
}

// watchUploads records the tus requests the page makes: method, the
// Upload-Offset sent, and the answer's status.
function watchUploads(page) {
  const seen = [];
  page.on('requestfinished', async (req) => {
    if (!req.url().includes('/api/v1/uploads/')) return;
    const res = await req.response();
    seen.push({ method: req.method(), offset: Number(req.headers()['upload-offset'] ?? -1), status: res?.status() });
  });
  return seen;
}

async function documentOf(page, file) {
  await page.waitForURL(/#\/doc\//, { timeout: 30000 });
  const id = decodeURIComponent(page.url().split('#/doc/')[1]);
  const doc = await page.evaluate(async (id) => (await fetch(`/api/v1/documents/${id}`)).json(), id);
  assert.equal(doc.sha256, sha256(file), 'the stored document has exactly the bytes chosen');
  assert.equal(doc.size, file.length);
  return doc;
}

const browser = await launch();
try {
  const page = await newPage(browser, { locale: 'en-US' });
  await login(page, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const seen = watchUploads(page);

  // A break after the first piece: the second PATCH is cut and the browser
  // is offline for a while.
  const file = handout(900 * 1024, '牛顿第二定律 F = ma, mechanics handout line');
  let patches = 0;
  let cut = false;
  await page.route('**/api/v1/uploads/**', async (route) => {
    const req = route.request();
    if (req.method() === 'PATCH' && ++patches === 2) {
      cut = true;
      await page.context().setOffline(true);
      await route.abort('internetdisconnected');
      return;
    }
    await route.continue();
  });
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByRole('heading', { level: 1, name: 'Upload a document' }).waitFor();
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'mechanics.txt', mimeType: 'text/plain', buffer: file });
  await page.getByLabel('Title').fill('力学讲义 (resumed)');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const status = page.locator('.upload-status');
  await status.getByText('Connection lost. The upload resumes by itself when the network is back.').waitFor({ timeout: 20000 });
  assert.ok(cut);
  const progress = await page.locator('progress').evaluate((p) => p.value);
  assert.ok(progress > 0 && progress < 100, `progress while offline = ${progress}`);
  await checkA11y(page, 'upload offline', { focus: false });
  await shot(page, 'upload-offline');
  await page.context().setOffline(false);
  const doc = await documentOf(page, file);
  assert.equal(doc.title, '力学讲义 (resumed)');
  await page.getByRole('heading', { level: 1, name: '力学讲义 (resumed)' }).waitFor();
  await shot(page, 'upload-resumed-document');
  // It resumed where the server stopped: after the cut, a HEAD asked the
  // offset and the next PATCH started there, past zero.
  const afterCut = seen.slice(seen.findIndex((r) => r.method === 'PATCH') + 1);
  const head = afterCut.find((r) => r.method === 'HEAD');
  const resumed = afterCut.find((r) => r.method === 'PATCH' && r.status === 204);
  assert.ok(head && head.status === 200, `no HEAD after the break: ${JSON.stringify(seen)}`);
  assert.ok(resumed && resumed.offset > 0, `the upload did not resume past zero: ${JSON.stringify(seen)}`);
  assert.equal(seen.filter((r) => r.method === 'POST').length, 1, 'one upload was created, not a second one');
  await page.unroute('**/api/v1/uploads/**');

  // A refusal is shown at once, not retried: over the department's quota
  // (set small for a moment by the admin), the creation is refused 409
  // quota_exceeded and the screen says so with the figures.
  const me = await page.evaluate(async () => (await fetch('/api/v1/me')).json());
  const adminAPI = await request.newContext({ baseURL: BASE }); // no teacher cookies
  const adminLogin = await adminAPI.post('/api/v1/auth/login', { data: { username: 'admin', password: env('DOCPLAT_ADMIN_PASSWORD') } });
  const adminToken = (await adminLogin.json()).token;
  const setQuota = async (bytes) => {
    const r = await adminAPI.patch(`/api/v1/admin/departments/${me.department_id}`, {
      headers: { Authorization: `Bearer ${adminToken}` }, data: { quota_bytes: bytes } });
    assert.equal(r.status(), 200, await r.text());
  };
  await setQuota(1000);
  const posts = seen.length;
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByRole('heading', { level: 1, name: 'Upload a document' }).waitFor();
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'big.txt', mimeType: 'text/plain', buffer: handout(5000, 'over quota') });
  const started = Date.now();
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor({ timeout: 5000 });
  assert.ok(Date.now() - started < 3000, 'the refusal was retried before it was shown');
  assert.match(await alert.textContent(), /quota/i);
  assert.deepEqual(seen.slice(posts).map((r) => `${r.method} ${r.status}`), ['POST 409'], 'one refused creation, no retries');
  await shot(page, 'upload-quota-refused');
  await setQuota(1 << 30);
  await adminAPI.dispose();

  // Pause and resume, in Chinese, on a slow connection.
  const zh = await newPage(browser, { locale: 'zh-CN' });
  zh.setDefaultTimeout(20000);
  await login(zh, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const zhSeen = watchUploads(zh);
  const cdp = await zh.context().newCDPSession(zh);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 100 * 1024 });
  const second = handout(700 * 1024, '春眠不觉晓，处处闻啼鸟 — 第二份讲义');
  await zh.goto('/#/upload');
  await zh.getByRole('heading', { level: 1, name: '上传文档' }).waitFor();
  await zh.getByLabel('文件', { exact: true }).setInputFiles({ name: 'poems.txt', mimeType: 'text/plain', buffer: second });
  await zh.getByRole('button', { name: '上传', exact: true }).click();
  await zh.waitForFunction(() => document.querySelector('progress')?.value > 0);
  await zh.getByRole('button', { name: '暂停' }).click();
  await zh.locator('.upload-status').getByText('已暂停。继续上传将从服务器收到的最后一个字节接着传。').waitFor();
  await checkA11y(zh, 'upload paused (zh)', { focus: false });
  await shot(zh, 'upload-paused-zh');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await zh.getByRole('button', { name: '继续' }).click();
  await documentOf(zh, second);
  assert.ok(zhSeen.some((r) => r.method === 'HEAD'), 'resume asked the server for its offset');
} finally {
  await browser.close();
}
