// Shared helpers of the browser scenarios (*.test.mjs, run by TestBrowser in
// cmd/docplat, which starts the server and sets the DOCPLAT_* variables).
import assert from 'node:assert/strict';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set: run the scenarios through go test -run TestBrowser ./cmd/docplat`);
  return v;
};

export const BASE = env('DOCPLAT_URL');

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// launch starts headless chromium; close it with browser.close().
export function launch() {
  return chromium.launch({ executablePath: env('DOCPLAT_CHROMIUM'), headless: true, args: ARGS });
}

// newPage opens a context (locale, viewport, light or dark colour scheme) and a page that fails the
// scenario on any uncaught page error or console error.
export async function newPage(browser, { locale = 'en-US', viewport = { width: 1280, height: 900 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ locale, viewport, colorScheme, baseURL: BASE });
  const page = await context.newPage();
  page.on('pageerror', (e) => {
    console.error(`page error: ${e.message}`);
    process.exitCode = 1;
  });
  page.on('console', (m) => {
    // A refused request (401, 412, 404 on purpose) logs a resource error; those are expected.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) {
      console.error(`console error: ${m.text()}`);
      process.exitCode = 1;
    }
  });
  return page;
}

// shot saves a full-page screenshot under DOCPLAT_SCREENSHOTS as <name>.png.
export async function shot(page, name) {
  const file = path.join(env('DOCPLAT_SCREENSHOTS'), `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`screenshot ${name}: ${file}`);
}

// checkA11y asserts the basics on the screen shown: every form control has
// an accessible name, focus sits on the main heading (after a navigation),
// and every text's colour contrasts with its background (WCAG AA: 4.5:1,
// 3:1 for large text), computed in the page.
export async function checkA11y(page, screen, { focus = true } = {}) {
  const r = await page.evaluate(() => {
    const out = { unlabelled: [], lowContrast: [], focus: '' };
    for (const el of document.querySelectorAll('input:not([type=hidden]), select, textarea, progress')) {
      const named = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (!named) out.unlabelled.push(el.outerHTML.slice(0, 120));
    }
    const a = document.activeElement;
    out.focus = a ? `${a.tagName.toLowerCase()}${a.id ? '#' + a.id : ''}` : '';
    out.focusIsHeading = Boolean(a && a.tagName === 'H1');

    const rgba = (s) => {
      const m = s.match(/rgba?\(([^)]+)\)/);
      if (!m) return null;
      const p = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
      return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
    };
    const lum = ({ r, g, b }) => {
      const f = (c) => {
        c /= 255;
        return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    // The background a text is drawn on: the first opaque-ish background up the tree.
    const background = (el) => {
      for (let e = el; e; e = e.parentElement) {
        const c = rgba(getComputedStyle(e).backgroundColor);
        if (c && c.a > 0.5) return c;
      }
      return { r: 255, g: 255, b: 255, a: 1 };
    };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const seen = new Set();
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || seen.has(el) || !n.textContent.trim()) continue;
      seen.add(el);
      const style = getComputedStyle(el);
      const box = el.getBoundingClientRect();
      if (style.visibility === 'hidden' || box.width === 0 || box.height === 0 || el.closest('[hidden]')) continue;
      const fg = rgba(style.color);
      if (!fg) continue;
      const bg = background(el);
      const L1 = lum(fg);
      const L2 = lum(bg);
      const ratio = (Math.max(L1, L2) + 0.05) / (Math.min(L1, L2) + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) out.lowContrast.push(`${el.tagName.toLowerCase()} "${n.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return out;
  });
  assert.deepEqual(r.unlabelled, [], `${screen}: form controls without a label`);
  assert.deepEqual(r.lowContrast, [], `${screen}: text with too little contrast`);
  if (focus) assert.ok(r.focusIsHeading, `${screen}: focus is on ${r.focus}, not the main heading`);
}

// login fills the login form and waits for the documents list.
export async function login(page, username, password) {
  await page.goto('/#/login');
  await page.locator('input[name=username]').fill(username);
  await page.locator('input[name=password]').fill(password);
  await page.locator('form button[type=submit]').click();
  await page.locator('#user .user-name').waitFor();
}
