// The statistics dashboard (#/stats) and a document's chart: the top list
// after some reads, the hot set (its empty state from the server, then a
// stubbed hot set, polled while visible and not while hidden), department
// usage against quota, the daily chart with its table, Chinese and English,
// a phone viewport, and a quota refusal on upload showing its figures.
import assert from 'node:assert/strict';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

const csrfOf = async (page) => (await page.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';

async function apiPost(page, path, data) {
  const r = await page.request.post(path, { headers: { 'X-CSRF-Token': await csrfOf(page) }, data });
  assert.ok(r.ok(), `${path}: ${r.status()} ${await r.text()}`);
  return r.json();
}

const browser = await launch();
try {
  // The administrator uploads a public document and reads it a few times.
  const page = await newPage(browser);
  await login(page, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  const up = await page.request.post('/api/v1/documents', {
    headers: { 'X-CSRF-Token': await csrfOf(page) },
    multipart: {
      file: { name: 'timetable.txt', mimeType: 'text/plain', buffer: Buffer.from('Monday: Chinese, maths. Tuesday: music.') },
      title: 'Timetable autumn term', visibility: 'public',
    },
  });
  assert.equal(up.status(), 201, await up.text());
  const doc = await up.json();
  for (let i = 0; i < 3; i++) assert.equal((await page.request.get(`/api/v1/documents/${doc.id}/content`)).status(), 200);
  await page.request.get(`/api/v1/documents/${doc.id}/content?download=1`);
  // A department with a small quota, 60% used.
  const dept = await apiPost(page, '/api/v1/admin/departments', { name: 'Tiny', quota_bytes: 100 });
  await apiPost(page, '/api/v1/admin/users', { username: 'tinyuser', password: 'tiny-user-password', display_name: 'Tiny User', department_id: dept.id });
  const tiny = await newPage(browser);
  await login(tiny, 'tinyuser', 'tiny-user-password');
  const small = await tiny.request.post('/api/v1/documents', {
    headers: { 'X-CSRF-Token': await csrfOf(tiny) },
    multipart: { file: { name: 'small.txt', mimeType: 'text/plain', buffer: Buffer.from('s'.repeat(60)) } },
  });
  assert.equal(small.status(), 201, await small.text());

  // The reads reach the stats service asynchronously.
  for (let i = 0; ; i++) {
    const top = await (await page.request.get('/api/v1/stats/top?window=1h')).json();
    if (top.items.some((it) => it.document.id === doc.id)) break;
    assert.ok(i < 100, 'the reads never reached the top list');
    await page.waitForTimeout(200);
  }

  // The dashboard, reached from the navigation: top list, hot set, departments.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Statistics' }).click();
  await page.getByRole('heading', { level: 1, name: 'Statistics' }).waitFor();
  const top = page.getByRole('table', { name: /Most read documents, Last 24 hours/ });
  await top.getByRole('link', { name: 'Timetable autumn term' }).waitFor();
  assert.match(await top.locator('tbody tr').first().textContent(), /Timetable autumn term.*You/, 'the owner by name');
  await page.getByText('Nothing is hot right now.').or(page.locator('.hot-list li').first()).waitFor();
  await page.getByRole('heading', { level: 2, name: 'Department storage' }).waitFor();
  await page.locator('.quota-row', { hasText: 'No department' }).getByText(/used, no quota/).waitFor();
  const tinyRow = page.locator('.quota-row', { hasText: 'Tiny' });
  await tinyRow.getByText('60 B of 100 B used (60%)').waitFor();
  assert.equal(await tinyRow.locator('.quota-fill').evaluate((e) => e.style.width), '60%');
  await checkA11y(page, 'stats (en)');
  await shot(page, 'stats-en');

  // The period: the choice stays focused, the list is asked again, the address remembers it.
  const period = page.getByRole('combobox', { name: 'Period' });
  await period.focus();
  await period.selectOption('7d');
  await page.getByRole('table', { name: /Last 7 days/ }).getByRole('link', { name: 'Timetable autumn term' }).waitFor();
  assert.ok(await period.evaluate((e) => e === document.activeElement), 'focus stays on the period');
  assert.match(page.url(), /#\/stats\?window=7d$/);

  // A stubbed hot set: rendered with its rate, polled every few seconds while visible, not while hidden.
  const hot = await newPage(browser);
  await login(hot, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  let polls = 0;
  await hot.route('**/api/v1/stats/hot', (route) => {
    polls++;
    route.fulfill({
      status: 200, contentType: 'application/json; charset=utf-8',
      body: JSON.stringify({ items: [{ document_id: doc.id, rate_per_s: 12.5, since: new Date(Date.now() - 60000).toISOString() }] }),
    });
  });
  await hot.goto('/#/stats');
  const item = hot.locator('.hot-list li').first();
  await item.getByRole('link', { name: 'Timetable autumn term' }).waitFor();
  assert.match(await item.textContent(), /12\.5 reads\/s/);
  await shot(hot, 'stats-hot-en');
  await hot.waitForFunction(() => /Updated at/.test(document.querySelector('.stats-hot + p')?.textContent || ''));
  const first = polls;
  for (let i = 0; polls === first; i++) {
    assert.ok(i < 80, 'the hot set was not polled again');
    await hot.waitForTimeout(100);
  }
  const setVisibility = (state) => hot.evaluate((s) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => s });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => s === 'hidden' });
    document.dispatchEvent(new Event('visibilitychange'));
  }, state);
  await setVisibility('hidden');
  await hot.waitForTimeout(300); // a poll already in flight may land
  const hidden = polls;
  await hot.waitForTimeout(6000); // longer than the polling interval
  assert.equal(polls, hidden, 'the hot set was polled while the page was hidden');
  await setVisibility('visible');
  for (let i = 0; polls === hidden; i++) {
    assert.ok(i < 20, 'the hot set was not asked again when the page became visible');
    await hot.waitForTimeout(100);
  }
  // Another screen stops the polling.
  await hot.goto('/#/');
  await hot.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  const left = polls;
  await hot.waitForTimeout(6000);
  assert.equal(polls, left, 'the hot set was polled after leaving the dashboard');

  // The document's chart, and its table.
  await page.goto(`/#/doc/${doc.id}`);
  await page.getByRole('heading', { level: 2, name: 'Views and downloads' }).waitFor();
  const chart = page.getByRole('img', { name: /Views and downloads per day over the last 30 days: \d+ views, 1 downloads/ });
  await chart.waitFor();
  assert.ok(await chart.locator('rect.chart-views').count() >= 1, 'a bar for today\'s views');
  assert.equal(await chart.locator('rect.chart-downloads').count(), 1, 'a bar for today\'s download');
  await page.getByText('Show as a table').click();
  const today = page.getByRole('table', { name: /last 30 days/ }).locator('tbody tr').first();
  const cells = await today.locator('td').allTextContents();
  assert.ok(Number(cells[0]) >= 3 && cells[1] === '1', `today's row: ${cells}`);
  assert.equal(await page.getByRole('table', { name: /last 30 days/ }).locator('tbody tr').count(), 30);
  await checkA11y(page, 'document stats (en)', { focus: false });
  await shot(page, 'docstats-en');

  // Chinese.
  const zh = await newPage(browser, { locale: 'zh-CN' });
  await login(zh, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  await zh.getByRole('link', { name: '统计' }).click();
  await zh.getByRole('heading', { level: 1, name: '统计' }).waitFor();
  await zh.getByRole('table', { name: /阅读最多的文档/ }).getByRole('link', { name: 'Timetable autumn term' }).waitFor();
  await zh.locator('.quota-row', { hasText: '无部门' }).getByText(/已用/).waitFor();
  await checkA11y(zh, 'stats (zh-CN)');
  await shot(zh, 'stats-zh');
  await zh.goto(`/#/doc/${doc.id}`);
  await zh.getByRole('img', { name: /最近 30 天每日浏览与下载/ }).waitFor();
  await zh.getByText('以表格显示').click();
  await checkA11y(zh, 'document stats (zh-CN)', { focus: false });
  await shot(zh, 'docstats-zh');

  // A phone, in the dark theme: nothing wider than the screen, contrast still AA.
  const phone = await newPage(browser, { viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await login(phone, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  await phone.getByRole('link', { name: 'Statistics' }).click();
  await phone.getByRole('heading', { level: 1, name: 'Statistics' }).waitFor();
  await phone.getByRole('link', { name: 'Timetable autumn term' }).waitFor();
  await phone.locator('.quota-row').first().waitFor();
  await checkA11y(phone, 'stats (phone)');
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), 'the dashboard fits a 390 px screen');
  await shot(phone, 'stats-phone');
  await phone.goto(`/#/doc/${doc.id}`);
  await phone.locator('svg.chart').waitFor();
  await checkA11y(phone, 'document stats (phone, dark)', { focus: false });
  assert.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= 390), 'the chart fits a 390 px screen');
  await shot(phone, 'docstats-phone');

  // A quota refusal on upload says how far over it is.
  await tiny.goto('/#/upload');
  await tiny.getByLabel('File', { exact: true }).setInputFiles({ name: 'big.txt', mimeType: 'text/plain', buffer: Buffer.from('x'.repeat(150)) });
  await tiny.getByRole('button', { name: 'Upload', exact: true }).click();
  const alert = tiny.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /uses 60 B of its 100 B quota, and this file needs 150 B/);
  await shot(tiny, 'upload-quota-en');
  console.log('ok');
} finally {
  await browser.close();
}
