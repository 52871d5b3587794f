// Chinese and English, and people instead of ids: a Chinese browser gets
// zh-CN (lang, strings, dates); the language switch is remembered across a
// reload; the document screen names the owner, the department and the
// uploader of each version.
import assert from 'node:assert/strict';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

const browser = await launch();
try {
  // The teacher uploads a department document (through the API: this scenario is about reading it).
  const teacher = await newPage(browser, { locale: 'zh-CN' });
  await teacher.goto('/');
  await teacher.getByRole('heading', { level: 1, name: '文档' }).waitFor();
  assert.equal(await teacher.getAttribute('html', 'lang'), 'zh-CN');
  assert.equal(await teacher.getByRole('navigation', { name: '主导航' }).count(), 1);
  await checkA11y(teacher, 'list (zh-CN)', { focus: false });
  await shot(teacher, 'list-zh');
  await login(teacher, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const csrf = (await teacher.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';
  const up = await teacher.request.post('/api/v1/documents', {
    headers: { 'X-CSRF-Token': csrf },
    multipart: {
      file: { name: '教案.txt', mimeType: 'text/plain', buffer: Buffer.from('第一课：静夜思。床前明月光，疑是地上霜。') },
      title: '静夜思教案', visibility: 'department',
    },
  });
  assert.equal(up.status(), 201, await up.text());
  const doc = await up.json();

  // The administrator reads it in Chinese: names, not ids.
  const admin = await newPage(browser, { locale: 'zh-CN' });
  await login(admin, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  await admin.goto(`/#/doc/${doc.id}`);
  await admin.getByRole('heading', { level: 1, name: '静夜思教案' }).waitFor();
  const details = admin.locator('dl.meta-grid').first();
  await admin.waitForFunction(() => ![...document.querySelectorAll('.person')].some((e) => e.textContent === '…'));
  const detailText = await details.textContent();
  assert.match(detailText, new RegExp(`所有者${env('DOCPLAT_TEACHER_NAME')}`), 'the owner by name');
  assert.match(detailText, new RegExp(`部门${env('DOCPLAT_DEPARTMENT_NAME')}`), 'the department by name');
  assert.ok(!detailText.includes(doc.owner_id), 'no owner id shown');
  await admin.getByText(`由 ${env('DOCPLAT_TEACHER_NAME')} 上传`).waitFor();
  assert.match(await admin.locator('dd time').first().textContent(), /\d{4}年\d{1,2}月\d{1,2}日/, 'a Chinese date');
  await checkA11y(admin, 'document (zh-CN)');
  await shot(admin, 'document-zh');

  // The switch: English now and after a reload.
  await admin.getByRole('combobox', { name: '语言' }).selectOption('en');
  await admin.getByRole('heading', { level: 2, name: 'Details' }).waitFor();
  assert.equal(await admin.getAttribute('html', 'lang'), 'en');
  await admin.waitForFunction(() => document.activeElement?.matches('select.lang'));
  await checkA11y(admin, 'document (switched to English)', { focus: false });
  await admin.reload(); // a first screen again
  await admin.getByRole('heading', { level: 2, name: 'Details' }).waitFor();
  assert.equal(await admin.getAttribute('html', 'lang'), 'en');
  // Names come from the directory after the screen is drawn ("…" until then).
  await admin.locator('dl.meta-grid').first().getByText(env('DOCPLAT_TEACHER_NAME'), { exact: true }).waitFor();
  assert.match(await admin.locator('dl.meta-grid').first().textContent(), new RegExp(`Owner${env('DOCPLAT_TEACHER_NAME')}`));
  await shot(admin, 'document-en');

  // The dark theme passes the same contrast check.
  const dark = await newPage(browser, { locale: 'zh-CN', colorScheme: 'dark' });
  await login(dark, 'admin', env('DOCPLAT_ADMIN_PASSWORD'));
  await dark.getByRole('link', { name: '静夜思教案' }).waitFor();
  await checkA11y(dark, 'list (dark)');
  await shot(dark, 'list-dark');
  await dark.getByRole('link', { name: '静夜思教案' }).click();
  await dark.locator('pre.preview-text').waitFor();
  await checkA11y(dark, 'document (dark)');
  await shot(dark, 'document-dark');

  // An English browser starts in English; the skip link leads to the heading.
  const en = await newPage(browser, { locale: 'en-GB' });
  await en.goto('/');
  await en.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  await en.keyboard.press('Tab');
  const skip = en.getByRole('link', { name: 'Skip to content' });
  assert.ok(await skip.evaluate((e) => e === document.activeElement), 'the skip link is the first stop');
  await en.keyboard.press('Enter');
  assert.equal(await en.evaluate(() => document.activeElement.tagName), 'H1');
  console.log('ok');
} finally {
  await browser.close();
}
