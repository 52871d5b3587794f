// Sharing, in English with Chinese screenshots: the teacher grants a
// colleague write access (the colleague then edits the title), creates a
// share link with an expiry and copies it, an anonymous browser downloads
// through it, the teacher revokes it (404 after); an upload link receives a
// file from an anonymous browser through /u/ with progress, and the teacher
// finds it among the documents received.
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { launch, newPage, login, shot, checkA11y, env, BASE } from './lib.mjs';

const csrfOf = async (page) => (await page.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';

const browser = await launch();
try {
  // The administrator creates the colleague (the admin screens are another scenario's).
  const admin = await newPage(browser);
  await login(admin, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  const made = await admin.request.post('/api/v1/admin/users', {
    headers: { 'X-CSRF-Token': await csrfOf(admin) },
    data: { username: 'colleague', password: 'colleague-pass-1', display_name: '李老师', role: 'member' },
  });
  assert.equal(made.status(), 201, await made.text());

  // The teacher's private document.
  const teacher = await newPage(browser);
  await teacher.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
  await login(teacher, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const content = '期中复习提纲：古诗三首。';
  const up = await teacher.request.post('/api/v1/documents', {
    headers: { 'X-CSRF-Token': await csrfOf(teacher) },
    multipart: {
      file: { name: '提纲.txt', mimeType: 'text/plain', buffer: Buffer.from(content) },
      title: '期中复习提纲', visibility: 'private',
    },
  });
  assert.equal(up.status(), 201, await up.text());
  const doc = await up.json();

  // Grant the colleague write access by username.
  await teacher.goto(`/#/doc/${doc.id}`);
  await teacher.getByRole('heading', { level: 1, name: '期中复习提纲' }).waitFor();
  const sharing = teacher.locator('section.panel', { has: teacher.getByRole('heading', { level: 2, name: 'Sharing' }) });
  await sharing.getByText('Not shared with anyone yet.').waitFor();
  await sharing.getByLabel('Username').fill('Colleague');
  await sharing.locator('form.add-grant').getByLabel('Permission').selectOption('write');
  await sharing.getByRole('button', { name: 'Add', exact: true }).click();
  await sharing.locator('li.grant', { hasText: '李老师' }).waitFor();
  await sharing.getByRole('button', { name: 'Save sharing' }).click();
  await teacher.getByText('Sharing saved.').waitFor();
  const grant = teacher.locator('li.grant', { hasText: '李老师' });
  await grant.waitFor();
  assert.equal(await grant.getByLabel('Permission').inputValue(), 'write');

  // The colleague edits the title and is not offered the sharing panel (write, not manage).
  const colleague = await newPage(browser);
  await login(colleague, 'colleague', 'colleague-pass-1');
  await colleague.goto(`/#/doc/${doc.id}`);
  await colleague.getByRole('heading', { level: 1, name: '期中复习提纲' }).waitFor();
  await colleague.getByLabel('Title').fill('期中复习提纲（李）');
  await colleague.getByRole('button', { name: 'Save changes' }).click();
  await colleague.getByRole('heading', { level: 1, name: '期中复习提纲（李）' }).waitFor();
  assert.equal(await colleague.getByRole('heading', { level: 2, name: 'Sharing' }).count(), 0);

  // The teacher's page is now a revision behind: saving the grants is refused
  // with 412 and the current set is shown (the colleague is still there).
  await sharing.locator('form.add-grant').getByLabel('Share with').selectOption('department');
  await sharing.getByLabel('Department').selectOption({ label: env('DOCPLAT_DEPARTMENT_NAME') });
  await sharing.getByRole('button', { name: 'Add', exact: true }).click();
  await sharing.locator('li.grant', { hasText: env('DOCPLAT_DEPARTMENT_NAME') }).waitFor();
  await sharing.getByRole('button', { name: 'Save sharing' }).click();
  await teacher.getByText('Someone changed the sharing meanwhile').waitFor();
  assert.equal(await sharing.locator('li.grant').count(), 1, 'the newer set, not the unsaved one');

  // A share link with an expiry and a download limit, copied to the clipboard.
  await teacher.reload();
  await teacher.getByRole('heading', { level: 1, name: '期中复习提纲（李）' }).waitFor();
  await sharing.getByLabel('Valid for').selectOption('86400');
  await sharing.getByLabel('Download limit').fill('3');
  await sharing.getByRole('button', { name: 'Create link' }).click();
  await sharing.getByRole('button', { name: 'Copy link' }).click();
  await sharing.getByText('Copied to the clipboard.').waitFor();
  const url = await teacher.evaluate(() => navigator.clipboard.readText());
  assert.equal(url, await sharing.locator('input[name=link_url]').inputValue());
  assert.match(url, /\/s\/[^/?]+$/);
  const row = sharing.locator('table.links tbody tr');
  assert.equal(await row.count(), 1);
  assert.match(await row.textContent(), /0 of 3.*active/);
  await checkA11y(teacher, 'sharing', { focus: false }); // focus is on the copy button
  await shot(teacher, 'sharing-en');

  // Anyone with the link downloads through its landing page.
  const anon = await newPage(browser);
  await anon.goto(url);
  const [download] = await Promise.all([anon.waitForEvent('download'), anon.locator('a[download]').click()]);
  assert.equal(await fs.readFile(await download.path(), 'utf8'), content);

  // The teacher sees the download counted, then revokes the link: 404 after.
  await teacher.reload();
  await teacher.getByRole('heading', { level: 1, name: '期中复习提纲（李）' }).waitFor();
  await row.filter({ hasText: '1 of 3' }).waitFor();
  teacher.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: /^Revoke the link created/ }).click();
  await teacher.getByText('Link revoked.').waitFor();
  await row.filter({ hasText: 'revoked' }).waitFor();
  assert.equal((await anon.request.get(`${url}?download=1`)).status(), 404);

  // The same panel in Chinese.
  await teacher.getByRole('combobox', { name: 'Language' }).selectOption('zh-CN');
  await teacher.locator('section.panel h2', { hasText: '共享' }).waitFor();
  await teacher.waitForFunction(() => ![...document.querySelectorAll('.person')].some((e) => e.textContent === '…'));
  await checkA11y(teacher, 'sharing (zh-CN)', { focus: false });
  await shot(teacher, 'sharing-zh');
  await teacher.getByRole('combobox', { name: '语言' }).selectOption('en');

  // An upload link: created on #/upload-links, used anonymously through /u/ with progress.
  await teacher.getByRole('link', { name: 'File requests' }).click();
  await teacher.getByRole('heading', { level: 1, name: 'File requests' }).waitFor();
  await checkA11y(teacher, 'upload links');
  await teacher.getByLabel('Title').fill('第三周作业');
  await teacher.getByLabel('Tags').fill('作业');
  await teacher.getByLabel('Maximum number of files').fill('5');
  await teacher.getByRole('button', { name: 'Create upload link' }).click();
  await teacher.getByText('Upload link “第三周作业” created.').waitFor();
  const uploadURL = await teacher.locator('input[name=link_url]').inputValue();
  assert.match(uploadURL, /\/u\/[^/?]+$/);
  await teacher.getByRole('button', { name: 'Copy link' }).click();
  assert.equal(await teacher.evaluate(() => navigator.clipboard.readText()), uploadURL);
  await shot(teacher, 'upload-links-en');

  const parent = await newPage(browser, { locale: 'zh-CN' });
  await parent.goto(uploadURL);
  await parent.getByRole('heading', { level: 1, name: '第三周作业' }).waitFor();
  await parent.locator('#file').setInputFiles({ name: 'homework.txt', mimeType: 'text/plain', buffer: Buffer.from('作业：'.repeat(40000)) });
  const cdp = await parent.context().newCDPSession(parent);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 100 * 1024 });
  await parent.locator('form button').click();
  await parent.waitForFunction(() => {
    const p = document.getElementById('bar');
    return p.value > 0 && p.value < 100;
  }, null, { timeout: 20000 });
  await parent.getByText(/^已收到: homework\.txt/).waitFor({ timeout: 30000 });
  assert.equal(await parent.locator('#bar').evaluate((p) => p.value), 100);

  // The teacher sees it counted and among the documents received.
  await teacher.reload();
  const link = teacher.locator('li.ulink', { hasText: '第三周作业' });
  await link.filter({ hasText: '1 of 5' }).waitFor();
  await link.getByRole('link', { name: '1 document received' }).click();
  await teacher.getByRole('link', { name: /homework/ }).waitFor();

  // The screen in Chinese and on a phone.
  const phone = await newPage(browser, { locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  await login(phone, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  await phone.goto('/#/');
  await phone.getByRole('heading', { level: 1, name: '文档' }).waitFor();
  await phone.getByRole('link', { name: '收件链接' }).click();
  await phone.getByRole('heading', { level: 1, name: '收件链接' }).waitFor();
  await phone.locator('li.ulink', { hasText: '1 / 5' }).waitFor();
  await checkA11y(phone, 'upload links (zh-CN, phone)');
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the phone page scrolls sideways by ${overflow}px`);
  await shot(phone, 'upload-links-zh-phone');
} finally {
  await browser.close();
}
