// The trash, in English with a Chinese screenshot: the teacher deletes a
// document ("moved to the trash") and undoes it from the banner; deletes it
// again, finds it on the Trash screen (deleted when, by whom, purged when),
// restores it from there, deletes it once more and deletes it forever after
// a confirmation. Meanwhile the document is 404 to its reader.
import assert from 'node:assert/strict';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

const csrfOf = async (page) => (await page.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';

const browser = await launch();
try {
  const page = await newPage(browser, { locale: 'en-US' });
  await login(page, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const up = await page.request.post('/api/v1/documents', {
    headers: { 'X-CSRF-Token': await csrfOf(page) },
    multipart: {
      file: { name: 'lesson.txt', mimeType: 'text/plain', buffer: Buffer.from('力学第一课：牛顿第一定律。') },
      title: '力学讲义', visibility: 'public',
    },
  });
  assert.equal(up.status(), 201, await up.text());
  const doc = await up.json();
  const anonymous = await browser.newContext({ baseURL: env('DOCPLAT_URL') });
  const readable = async () => (await anonymous.request.get(`/api/v1/documents/${doc.id}`)).status();

  // Delete from the document screen: the banner says "moved to the trash" and offers Undo.
  await page.goto(`/#/doc/${doc.id}`);
  await page.getByRole('heading', { level: 1, name: '力学讲义' }).waitFor();
  page.once('dialog', (d) => {
    assert.match(d.message(), /Move “力学讲义” to the trash\?/);
    d.accept();
  });
  await page.getByRole('button', { name: 'Delete document' }).click();
  await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  const banner = page.locator('#banner .banner');
  await banner.getByText('Moved “力学讲义” to the trash.').waitFor();
  assert.equal(await readable(), 404, 'a trashed document is 404 to its readers');
  await checkA11y(page, 'list after a delete (undo banner)');
  await shot(page, 'trash-undo-banner');
  await banner.getByRole('button', { name: 'Undo' }).click();
  await page.getByRole('heading', { level: 1, name: '力学讲义' }).waitFor();
  await page.locator('#banner .banner').getByText('Restored “力学讲义”.').waitFor();
  assert.equal(await readable(), 200, 'restored: readable again');

  // Delete again; the Trash screen lists it with its dates and who deleted it.
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete document' }).click();
  await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  await page.getByRole('link', { name: 'Trash' }).click();
  await page.getByRole('heading', { level: 1, name: 'Trash' }).waitFor();
  const item = page.locator('ul.trash li').filter({ hasText: '力学讲义' });
  await item.waitFor();
  const text = await item.textContent();
  assert.match(text, /Deleted/);
  assert.match(text, /by You/);
  assert.match(text, /To be purged/);
  await checkA11y(page, 'trash');
  await shot(page, 'trash');

  // Restore from the Trash screen.
  await item.getByRole('button', { name: 'Restore “力学讲义”' }).click();
  await page.locator('#banner .banner').getByText('Restored “力学讲义”.').waitFor();
  await page.getByText('The trash is empty.').waitFor();
  assert.equal(await readable(), 200);

  // Delete it once more, and forever: cancelling the confirmation keeps it.
  await page.goto(`/#/doc/${doc.id}`);
  await page.getByRole('heading', { level: 1, name: '力学讲义' }).waitFor();
  page.once('dialog', (d) => d.accept());
  await page.getByRole('button', { name: 'Delete document' }).click();
  await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  await page.goto('/#/trash');
  await page.getByRole('heading', { level: 1, name: 'Trash' }).waitFor();
  const again = page.locator('ul.trash li').filter({ hasText: '力学讲义' });
  page.once('dialog', (d) => d.dismiss());
  await again.getByRole('button', { name: 'Delete “力学讲义” forever' }).click();
  assert.equal(await again.count(), 1, 'a cancelled confirmation deletes nothing');
  page.once('dialog', (d) => {
    assert.match(d.message(), /forever/);
    d.accept();
  });
  await again.getByRole('button', { name: 'Delete “力学讲义” forever' }).click();
  await page.locator('#banner .banner').getByText('Deleted “力学讲义” forever.').waitFor();
  await page.getByText('The trash is empty.').waitFor();
  const gone = await page.request.post(`/api/v1/documents/${doc.id}/restore`, { headers: { 'X-CSRF-Token': await csrfOf(page) } });
  assert.equal(gone.status(), 404, 'purged: nothing to restore');

  // The Trash screen in Chinese, with one deleted document.
  const zh = await newPage(browser, { locale: 'zh-CN' });
  await login(zh, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const up2 = await zh.request.post('/api/v1/documents', {
    headers: { 'X-CSRF-Token': await csrfOf(zh) },
    multipart: { file: { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('静夜思') }, title: '静夜思笔记' },
  });
  assert.equal(up2.status(), 201);
  const del = await zh.request.delete(`/api/v1/documents/${(await up2.json()).id}`, { headers: { 'X-CSRF-Token': await csrfOf(zh) } });
  assert.equal(del.status(), 204);
  await zh.goto('/#/trash');
  await zh.getByRole('heading', { level: 1, name: '回收站' }).waitFor();
  await zh.locator('ul.trash li').filter({ hasText: '静夜思笔记' }).getByRole('button', { name: '恢复“静夜思笔记”' }).waitFor();
  await checkA11y(zh, 'trash (zh-CN)');
  await shot(zh, 'trash-zh');

  // More than a page (50): the Trash screen pages like the list, in both languages.
  const csrf = await csrfOf(page);
  for (let i = 0; i < 51; i += 8) {
    await Promise.all(Array.from({ length: Math.min(8, 51 - i) }, async (_, j) => {
      const r = await page.request.post('/api/v1/documents', {
        headers: { 'X-CSRF-Token': csrf },
        multipart: { file: { name: `p${i + j}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`page test ${i + j}`) }, title: `Old handout ${i + j}` },
      });
      assert.equal(r.status(), 201, await r.text());
      const d = await page.request.delete(`/api/v1/documents/${(await r.json()).id}`, { headers: { 'X-CSRF-Token': csrf } });
      assert.equal(d.status(), 204);
    }));
  }
  await page.goto('/#/trash');
  await page.reload(); // it was on the trash already: the same hash draws nothing anew
  const pagerNav = page.getByRole('navigation', { name: 'Pages' });
  await pagerNav.getByText('Page 1 of 2').waitFor();
  assert.equal(await page.locator('ul.trash li').count(), 50, 'a full first page');
  await page.getByText('52 deleted documents · showing 1–50').waitFor();
  await pagerNav.getByRole('link', { name: 'Next →' }).click();
  await pagerNav.getByText('Page 2 of 2').waitFor();
  assert.equal(await page.locator('ul.trash li').count(), 2, 'the rest on the second');
  await checkA11y(page, 'trash, second page');
  await zh.goto('/#/trash?page=2');
  await zh.getByRole('navigation', { name: '分页' }).getByText('第 2 页，共 2 页').waitFor();
} finally {
  await browser.close();
}
