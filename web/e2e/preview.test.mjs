// The preview panel of the document screen, in English and Chinese: the
// server's sanitized Markdown shown as HTML without running the script and
// the onerror handler written in it, GBK text stored as GB18030 shown
// decoded, a two-page PDF paged through once generated (the test's job
// runner generates it; until then the panel says so and asks again), an
// image's thumbnail, a damaged PDF (422) and a busy server (503, with Try
// again) explained. Screenshots in both languages.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { launch, newPage, login, shot, checkA11y, env } from './lib.mjs';

const MARKDOWN = `# 课程说明 Course notes

Read **carefully**, then visit [the site](https://example.com/).

<script>window.__ran = 'script'; alert('script')</script>

<img src="x" onerror="window.__ran = 'onerror'; alert('onerror')">

![a tracking pixel](https://tracker.example/pixel.png)

| 星期 | 课程 |
|------|------|
| 一   | 语文 |

- [x] 备课
- [ ] 批改作业
`;
const GBK_TEXT = '一年级课程表：语文、数学、音乐。\n周一：早读\n';
// GBK_TEXT encoded in GBK (node has no GBK encoder).
const GBK = Buffer.from('d2bbc4eabcb6bfceb3ccb1eda3bad3efcec4a1a2cafdd1a7a1a2d2f4c0d6a1a30ad6dcd2bba3bad4e7b6c10a', 'hex');
const PDF = await readFile(new URL('../../preview/testdata/two-pages.pdf', import.meta.url));
// A 2x1 PNG (red, blue).
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000020000000108020000007b40e8dd0000000d49444154789c63f8cf0004ff01070001ffe2239e590000000049454e44ae426082', 'hex');

const STRINGS = {
  en: { pageOf: (n) => `Page ${n} of 2`, next: 'Next page', prev: 'Previous page', charset: 'Encoding: gb18030',
    unreadable: 'This file cannot be previewed', pending: 'The preview is being generated', busy: 'The server is busy rendering previews.', retry: 'Try again' },
  zh: { pageOf: (n) => `第 ${n} 页，共 2 页`, next: '下一页', prev: '上一页', charset: '编码：gb18030',
    unreadable: '无法预览此文件', pending: '正在生成预览', busy: '服务器正忙于生成预览。', retry: '重试' },
};

const browser = await launch();
try {
  const en = await newPage(browser, { locale: 'en-US' });
  await login(en, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  const csrf = (await en.context().cookies()).find((c) => c.name === 'docplat_csrf')?.value || '';
  const upload = async (name, mimeType, buffer, title) => {
    const r = await en.request.post('/api/v1/documents', {
      headers: { 'X-CSRF-Token': csrf },
      multipart: { file: { name, mimeType, buffer }, title },
    });
    assert.equal(r.status(), 201, `upload ${name}: ${await r.text()}`);
    return (await r.json()).id;
  };
  const docs = {
    md: await upload('notes.md', 'text/markdown', Buffer.from(MARKDOWN), '课程说明'),
    gbk: await upload('timetable.txt', 'text/plain', GBK, '一年级课程表'),
    pdf: await upload('two-pages.pdf', 'application/pdf', PDF, 'Two pages'),
    damaged: await upload('damaged.pdf', 'application/pdf', Buffer.from('%PDF-1.4\nthis is no PDF at all\n'), 'Damaged'),
    image: await upload('diagram.png', 'image/png', PNG, 'Diagram'),
  };
  const zh = await newPage(browser, { locale: 'zh-CN' });
  await login(zh, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));

  for (const [lang, page] of [['en', en], ['zh', zh]]) {
    const s = STRINGS[lang];
    page.on('dialog', async (d) => {
      console.error(`a dialog opened: ${d.message()}`);
      process.exitCode = 1;
      await d.dismiss();
    });
    const open = async (id, title) => {
      await page.goto(`/#/doc/${encodeURIComponent(id)}`);
      await page.getByRole('heading', { level: 1, name: title }).waitFor();
    };

    // Markdown: rendered HTML, with neither the script nor the handler.
    await open(docs.md, '课程说明');
    const html = page.locator('.preview-html');
    await html.waitFor();
    await html.locator('h3', { hasText: '课程说明 Course notes' }).waitFor();
    assert.equal(await html.locator('strong').textContent(), 'carefully');
    assert.equal(await html.locator('td').first().textContent(), '一');
    assert.ok(await html.getByRole('checkbox', { name: '备课' }).isChecked(), 'a done task, named by its text');
    assert.equal(await html.locator('a[href="https://example.com/"]').getAttribute('rel'), 'noopener nofollow ugc');
    await page.waitForTimeout(300); // time for an onerror that should not exist
    const dom = await page.evaluate(() => ({
      scripts: document.querySelectorAll('#view script').length,
      handlers: [...document.querySelectorAll('#view *')].filter((el) => [...el.attributes].some((a) => a.name.startsWith('on'))).length,
      images: document.querySelectorAll('.preview-html img').length,
      ran: window.__ran ?? null,
      h1s: document.querySelectorAll('h1').length,
    }));
    assert.deepEqual(dom, { scripts: 0, handlers: 0, images: 0, ran: null, h1s: 1 }, 'the Markdown preview runs nothing');
    assert.match(await html.textContent(), /a tracking pixel/, 'an outside image becomes its alt text');
    await checkA11y(page, `markdown preview (${lang})`);
    await shot(page, `preview-markdown-${lang}`);

    // GBK text, stored as charset=gb18030 by the upload, shown decoded with its charset.
    await open(docs.gbk, '一年级课程表');
    const text = page.locator('pre.preview-text');
    await text.waitFor();
    assert.equal(await text.textContent(), GBK_TEXT);
    await page.getByText(s.charset).waitFor();
    await checkA11y(page, `text preview (${lang})`);
    await shot(page, `preview-gbk-${lang}`);

    // A two-page PDF not generated yet (the answer held back): the panel
    // says so, then asks again by itself and shows page 1.
    const pending = `**/api/v1/documents/${docs.pdf}/versions/1/preview`;
    await page.route(pending, (r) => r.fulfill({ status: 200, contentType: 'application/json', headers: { 'Retry-After': '5' }, body: '{"kind":"pending","version":1}' }));
    await open(docs.pdf, 'Two pages');
    await page.locator('.preview').getByText(s.pending).waitFor();
    await checkA11y(page, `pending preview (${lang})`);
    await shot(page, `preview-pending-${lang}`);
    await page.unroute(pending);
    // Then page 1, then page 2.
    const nav = page.locator('.pdf-nav');
    await nav.getByText(s.pageOf(1)).waitFor();
    const pageImage = async (n) => {
      const img = page.getByRole('img', { name: s.pageOf(n) });
      await img.scrollIntoViewIfNeeded(); // lazy: it loads when seen
      await page.waitForFunction((alt) => {
        const el = [...document.querySelectorAll('.pdf-page img')].find((i) => i.alt === alt);
        return el && el.complete && el.naturalWidth > 0;
      }, s.pageOf(n));
      const src = new URL(await img.getAttribute('src'), env('DOCPLAT_URL'));
      assert.equal(src.searchParams.get('page'), String(n));
      assert.ok([480, 960, 1440].includes(Number(src.searchParams.get('width'))), `width ${src}`);
      assert.match(src.pathname, /\/versions\/1\/preview$/, 'a page names its version');
      return img;
    };
    await pageImage(1);
    assert.ok(await nav.getByRole('button', { name: s.prev }).isDisabled());
    await checkA11y(page, `pdf preview (${lang})`);
    await shot(page, `preview-pdf-page1-${lang}`);
    await nav.getByRole('button', { name: s.next }).click();
    await nav.getByText(s.pageOf(2)).waitFor();
    await pageImage(2);
    assert.ok(await nav.getByRole('button', { name: s.next }).isDisabled());
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), s.prev, 'focus stays on the page buttons');
    await shot(page, `preview-pdf-page2-${lang}`);
    await nav.getByRole('button', { name: s.prev }).click();
    await pageImage(1);

    // An image: its thumbnail, downscaled by the server.
    await open(docs.image, 'Diagram');
    await page.waitForFunction(() => document.querySelector('.preview-image img')?.naturalWidth > 0, null, { timeout: 20000 });
    const thumb = await page.locator('.preview-image img').evaluate((el) => ({ natural: el.naturalWidth, src: el.getAttribute('src') }));
    assert.match(thumb.src, /\/versions\/1\/preview\?page=1&width=(480|960|1440)$/, `thumbnail ${thumb.src}`);
    assert.ok(thumb.natural <= 1440, `the thumbnail is ${thumb.natural} wide`);

    // A damaged PDF: 422, said in the UI's language.
    await open(docs.damaged, 'Damaged');
    await page.locator('.preview').getByText(s.unreadable).waitFor();
    await shot(page, `preview-unreadable-${lang}`);

    // A busy server (503 without Retry-After: not retried by itself) offers Try again.
    const route = `**/api/v1/documents/${docs.gbk}/versions/1/preview`;
    await page.route(route, (r) => r.fulfill({ status: 503, contentType: 'application/json', body: '{"error":{"code":"unavailable","message":"busy"}}' }));
    await open(docs.gbk, '一年级课程表');
    await page.locator('.preview').getByText(s.busy).waitFor();
    await checkA11y(page, `busy preview (${lang})`);
    await shot(page, `preview-busy-${lang}`);
    await page.unroute(route);
    await page.getByRole('button', { name: s.retry }).click();
    await page.waitForFunction((want) => document.querySelector('pre.preview-text')?.textContent === want, GBK_TEXT);
    assert.ok(await page.evaluate(() => document.activeElement?.classList.contains('preview')), 'focus stays in the panel after Try again');
  }

  // A phone: the PDF page fits the screen and is asked for at its width.
  const phone = await newPage(browser, { locale: 'zh-CN', viewport: { width: 390, height: 844 } });
  await login(phone, env('DOCPLAT_TEACHER'), env('DOCPLAT_TEACHER_PASSWORD'));
  await phone.goto(`/#/doc/${encodeURIComponent(docs.pdf)}`);
  const img = phone.getByRole('img', { name: STRINGS.zh.pageOf(1) });
  await img.scrollIntoViewIfNeeded();
  await phone.waitForFunction(() => document.querySelector('.pdf-page img')?.naturalWidth > 0);
  const fit = await img.evaluate((el) => ({ shown: el.getBoundingClientRect().right, screen: innerWidth, width: new URL(el.src).searchParams.get('width') }));
  assert.ok(fit.shown <= fit.screen, `the page image overflows the phone: ${JSON.stringify(fit)}`);
  assert.equal(fit.width, '480', 'asked for at the phone panel width (under 480 px at DPR 1)');
  await checkA11y(phone, 'pdf preview (phone)');
  await shot(phone, 'preview-pdf-phone-zh');
} finally {
  await browser.close();
}
