// The documents scenario, in English: login, upload with progress, list,
// search in Chinese with a highlighted snippet, preview, a new version and
// its preview, an edit conflict (412) that keeps what was typed, logout, and
// the list on a phone. Each screen gets the accessibility check and a screenshot.
import assert from 'node:assert/strict';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

const browser = await launch();
try {
  const page = await newPage(browser, { locale: 'en-US' });

  // The list as a guest.
  await page.goto('/');
  await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await checkA11y(page, 'list (guest)', { focus: false }); // the first screen: focus stays at the top
  await shot(page, 'list-guest');

  // Screens a guest reaches by address: upload asks for a login; an unknown route says so.
  await page.goto('/#/upload');
  await page.getByRole('heading', { level: 1, name: 'Upload' }).waitFor();
  await page.locator('#view').getByRole('link', { name: 'log in' }).waitFor();
  await checkA11y(page, 'upload (guest)');
  await shot(page, 'upload-guest');
  await page.goto('/#/nowhere');
  await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
  await checkA11y(page, 'not found');
  await shot(page, 'not-found');
  await page.goto('/#/');

  // Login.
  await page.getByRole('link', { name: 'Log in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Log in' }).waitFor();
  await checkA11y(page, 'login');
  await shot(page, 'login');
  await login(page, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  assert.equal(await page.locator('#user .user-name').textContent(), env('DOCPLAT_TEACHER_NAME'));

  // Upload, throttled so that the progress bar is seen between 0 and 100%.
  await page.getByRole('link', { name: 'Upload' }).click();
  await page.getByRole('heading', { level: 1, name: 'Upload a document' }).waitFor();
  await checkA11y(page, 'upload');
  await shot(page, 'upload');
  const first = `春天的古诗：春眠不觉晓，处处闻啼鸟。\n${'Spring poems for the second grade. '.repeat(12000)}\n`;
  await page.getByLabel('File', { exact: true }).setInputFiles({ name: 'poems.txt', mimeType: 'text/plain', buffer: Buffer.from(first) });
  await page.getByLabel('Title').fill('春天的古诗');
  await page.getByLabel('Tags').fill('语文，二年级');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 150 * 1024 });
  await page.getByRole('button', { name: 'Upload', exact: true }).click();
  const bar = page.getByRole('progressbar', { name: 'Upload progress' });
  await page.waitForFunction(() => {
    const p = document.querySelector('progress');
    return p && !p.closest('[hidden]') && p.value > 0 && p.value < 100;
  }, null, { timeout: 20000 });
  await shot(page, 'upload-progress');
  assert.ok(await bar.isVisible());
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // The document screen: preview of the first version.
  await page.getByRole('heading', { level: 1, name: '春天的古诗' }).waitFor();
  const preview = page.locator('pre.preview-text');
  await preview.waitFor();
  assert.ok((await preview.textContent()).startsWith('春天的古诗：春眠不觉晓'));
  await checkA11y(page, 'document');
  await shot(page, 'document');
  const docURL = page.url();
  const docID = decodeURIComponent(docURL.split('#/doc/')[1]);

  // The list.
  await page.getByRole('link', { name: 'Documents' }).first().click();
  await page.getByRole('link', { name: '春天的古诗' }).waitFor();
  await checkA11y(page, 'list');
  await shot(page, 'list');

  // Search in Chinese: the snippet highlights the words.
  await page.getByRole('searchbox', { name: 'Search' }).fill('春眠');
  await page.getByRole('button', { name: 'Search', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'Search results' }).waitFor();
  const mark = page.locator('.snippet mark').first();
  await mark.waitFor();
  assert.match(await mark.textContent(), /春眠/);
  await checkA11y(page, 'search');
  await shot(page, 'search-zh');

  // A new, longer version: its preview must show all of it, not the old
  // version's length of it. The browser once answered the preview of a
  // version uploaded elsewhere (its own PUT drops its cache entry) by
  // revalidating its cached partial response of the older, shorter one.
  await page.goto(docURL);
  await preview.waitFor();
  const short = '第一版：短。';
  const longer = `第二版：${'A longer second version of the poems, with notes for teachers. '.repeat(2)}结束。`;
  const newVersion = page.locator('form', { hasText: 'New version' });
  await newVersion.getByLabel('File').setInputFiles({ name: 'v2.txt', mimeType: 'text/plain', buffer: Buffer.from(short) });
  await page.getByRole('button', { name: 'Upload new version' }).click();
  await page.getByText('Uploaded version 2.').waitFor();
  await page.waitForFunction((want) => document.querySelector('pre.preview-text')?.textContent === want, short);
  await shot(page, 'document-new-version');
  // Read it afresh, as a reader who did not upload it would have it cached.
  await page.reload();
  await page.waitForFunction((want) => document.querySelector('pre.preview-text')?.textContent === want, short);
  const csrf = (await page.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';
  const put = await page.request.put(`/api/v1/documents/${docID}/content`, {
    headers: { 'If-Match': '"2"', 'X-CSRF-Token': csrf },
    multipart: { file: { name: 'v3.txt', mimeType: 'text/plain', buffer: Buffer.from(longer) } },
  });
  assert.equal(put.status(), 200, `the version uploaded elsewhere: ${await put.text()}`);
  await page.getByRole('link', { name: 'Documents' }).first().click();
  await page.getByRole('heading', { level: 1, name: 'Documents' }).waitFor();
  await page.goto(docURL);
  await page.waitForFunction(() => document.querySelector('pre.preview-text'));
  assert.equal(await preview.textContent(), longer, 'the preview after a new version shows the whole new content');
  await checkA11y(page, 'document after a new version');
  await shot(page, 'document-newer-version');

  // An edit conflict: someone else saves while the form holds our changes.
  await page.getByLabel('Title').fill('春天的古诗（修订）');
  const current = await (await page.request.get(`/api/v1/documents/${docID}`)).json();
  const theirs = await page.request.patch(`/api/v1/documents/${docID}`, {
    headers: { 'If-Match': `"r${current.revision}"`, 'X-CSRF-Token': csrf },
    data: { title: '他人修改的标题' },
  });
  assert.equal(theirs.status(), 200, `the concurrent edit: ${await theirs.text()}`);
  await page.getByRole('button', { name: 'Save changes' }).click();
  const conflict = page.locator('aside.conflict');
  await conflict.waitFor();
  assert.match(await conflict.textContent(), /他人修改的标题/, 'the newer version is shown');
  assert.equal(await page.getByLabel('Title').inputValue(), '春天的古诗（修订）', 'what the user typed is kept');
  await checkA11y(page, 'edit conflict', { focus: false });
  await shot(page, 'edit-conflict');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { level: 1, name: '春天的古诗（修订）' }).waitFor();

  // Logout.
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByText('You are logged out.').waitFor();
  await page.getByText('Browsing as guest').waitFor();
  await shot(page, 'logged-out');

  // The list on a phone: nothing wider than the screen.
  const phone = await newPage(browser, { locale: 'en-US', viewport: { width: 390, height: 844 } });
  await login(phone, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  await phone.getByRole('link', { name: '春天的古诗（修订）' }).waitFor();
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the phone layout is ${overflow}px wider than the screen`);
  await checkA11y(phone, 'list (phone)');
  await shot(phone, 'list-phone');
  console.log('ok');
} finally {
  await browser.close();
}
