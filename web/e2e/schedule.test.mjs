// Scheduling a handout, in English: the teacher uploads it with "Publish
// at" tomorrow and a lecture time; the document page and the list mark it
// "Scheduled" for her; a guest does not find it; clearing "Publish at" in
// the edit form publishes it, and the guest sees it without the mark.
import assert from 'node:assert/strict';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

// local is a datetime-local value (the browser's time zone) hours ahead.
const local = (hours) => {
  const d = new Date(Date.now() + hours * 3600e3);
  d.setMinutes(0, 0, 0);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
};

const browser = await launch();
try {
  const page = await newPage(browser, { locale: 'en-US' });
  await page.goto('/');
  await login(page, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByRole('heading', { level: 1, name: 'Upload a document' }).waitFor();
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'mechanics.txt', mimeType: 'text/plain', buffer: Buffer.from('牛顿力学 lecture handout') });
  await page.getByLabel('Title').fill('Mechanics handout');
  await page.getByLabel('Visibility').selectOption('public');
  await page.getByLabel('Publish at').fill(local(24));
  await page.getByLabel('Lecture at').fill(local(25));
  await checkA11y(page, 'upload (scheduled)', { focus: false }); // focus is in the form being filled
  await shot(page, 'upload-scheduled');
  await page.getByRole('button', { name: 'Upload', exact: true }).click();

  await page.getByRole('heading', { level: 1, name: 'Mechanics handout' }).waitFor();
  const details = page.locator('dl.meta-grid').first();
  await details.locator('.badge-scheduled').waitFor();
  assert.match(await details.textContent(), /Scheduled: /);
  assert.match(await details.textContent(), /Publish at/);
  assert.match(await details.textContent(), /Lecture at/);
  await checkA11y(page, 'document (scheduled)');
  await shot(page, 'document-scheduled');
  const docID = decodeURIComponent(page.url().split('#/doc/')[1]);

  await page.getByRole('link', { name: 'Documents' }).first().click();
  const item = page.locator('li.doc', { has: page.getByRole('link', { name: 'Mechanics handout' }) });
  await item.locator('.badge-scheduled').waitFor();
  await shot(page, 'list-scheduled');

  // A guest neither lists nor opens it.
  const guest = await newPage(browser, { locale: 'en-US' });
  const listed = await guest.request.get('/api/v1/documents?sort=created_at');
  assert.ok(!(await listed.json()).items.some((d) => d.id === docID), 'a guest lists the scheduled handout');
  assert.equal((await guest.request.get(`/api/v1/documents/${docID}`)).status(), 404);

  // Clearing "Publish at" publishes it.
  await page.goto(`/#/doc/${docID}`);
  await page.getByRole('heading', { level: 1, name: 'Mechanics handout' }).waitFor();
  await page.getByLabel('Publish at').fill('');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: /saved/i }).waitFor();
  await page.waitForFunction(() => !document.querySelector('dl.meta-grid .badge-scheduled'));
  assert.equal((await guest.request.get(`/api/v1/documents/${docID}`)).status(), 200);
  console.log('ok');
} finally {
  await browser.close();
}
