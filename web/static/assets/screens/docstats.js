// A document's daily views and downloads (GET /documents/{id}/stats) as an
// inline SVG bar chart, with the same figures as a table for screen readers
// and anyone who prefers numbers. Shown on the document screen.
import { h, fill, section, loading, timeEl } from '../dom.js?v=__ASSET_VERSION__';
import { api } from '../api.js?v=__ASSET_VERSION__';
import { t, currentLang } from '../i18n.js?v=__ASSET_VERSION__';
import { docPath } from '../router.js?v=__ASSET_VERSION__';

export const DAYS = 30; // the stats service keeps a document's last 30 days
const SVG_NS = 'http://www.w3.org/2000/svg';

// W×H is the chart's coordinate space; the SVG scales to its box's width.
const W = 600;
const H = 180;
const PAD = { left: 48, right: 8, top: 12, bottom: 26 };

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// lastDays is the DAYS days ending today (UTC, the service's days) with
// the counts of the days the service listed (it lists active days only).
export function lastDays(daily, today = new Date()) {
  const counts = new Map((daily || []).map((d) => [d.date, d]));
  const end = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
  const out = [];
  for (let i = DAYS - 1; i >= 0; i--) {
    const date = new Date(end - i * 86400000).toISOString().slice(0, 10);
    const c = counts.get(date);
    out.push({ date, views: c?.views || 0, downloads: c?.downloads || 0 });
  }
  return out;
}

const dayFormat = (opts) => new Intl.DateTimeFormat(currentLang(), { timeZone: 'UTC', ...opts });
const fmtNumber = (n) => new Intl.NumberFormat(currentLang()).format(n);
// The scale's numbers are short (1.2K, 1.2万) so that they fit its margin.
const fmtCompact = (n) => new Intl.NumberFormat(currentLang(), { notation: 'compact', maximumFractionDigits: 1 }).format(n);

export function docStatsSection(doc, alive) {
  const box = h('div', { class: 'doc-stats' }, loading());
  api('GET', `${docPath(doc.id)}/stats`).then((st) => {
    if (alive()) drawStats(box, st || {});
  }, (e) => {
    if (alive()) fill(box, h('p', { class: 'error-text' }, t('stats.error', { message: e.message })));
  });
  return section(t('docstats.title'), box);
}

function drawStats(box, st) {
  const days = lastDays(st.daily);
  const totals = h('p', {},
    t('docstats.totals', { views: fmtNumber(st.views || 0), downloads: fmtNumber(st.downloads || 0) }),
    st.last_access_at ? [' ', t('docstats.lastAccess'), ' ', timeEl(st.last_access_at)] : null);
  fill(box, totals, chart(days), legend(), table(days));
}

function chart(days) {
  // An even top, at least 2, so that the scale's three marks are whole numbers.
  const most = Math.max(...days.map((d) => Math.max(d.views, d.downloads)));
  const top = Math.max(2, most + (most % 2));
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const slot = plotW / days.length;
  const bar = Math.max(1, (slot - 2) / 2);
  const y = (v) => PAD.top + plotH - (v / top) * plotH;
  const short = dayFormat({ month: 'numeric', day: 'numeric' });

  const sum = days.reduce((a, d) => ({ views: a.views + d.views, downloads: a.downloads + d.downloads }), { views: 0, downloads: 0 });
  const titleId = `docstats-title-${Math.random().toString(36).slice(2)}`;
  const el = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-labelledby': titleId, preserveAspectRatio: 'xMidYMid meet' },
    svg('title', { id: titleId }, t('docstats.chartLabel', { days: DAYS, views: fmtNumber(sum.views), downloads: fmtNumber(sum.downloads) })));
  // Gridlines and the scale at 0, half and the top.
  for (const v of [0, top / 2, top]) {
    const yy = y(v);
    el.append(svg('line', { class: 'chart-grid', x1: PAD.left, x2: W - PAD.right, y1: yy, y2: yy }));
    el.append(svg('text', { class: 'chart-axis', x: PAD.left - 4, y: yy, 'text-anchor': 'end', 'dominant-baseline': 'middle' }, fmtCompact(Math.round(v))));
  }
  days.forEach((d, i) => {
    const x = PAD.left + i * slot + 1;
    const label = dayFormat({ dateStyle: 'medium' }).format(new Date(`${d.date}T00:00:00Z`));
    for (const [kind, v, dx] of [['views', d.views, 0], ['downloads', d.downloads, bar]]) {
      if (v > 0) {
        el.append(svg('rect', { class: `chart-${kind}`, x: x + dx, y: y(v), width: bar, height: y(0) - y(v) },
          svg('title', {}, `${label}: ${t(`stats.${kind}`)} ${fmtNumber(v)}`)));
      }
    }
    // A date under every seventh day, counted back from today so the last one is labelled.
    if ((days.length - 1 - i) % 7 === 0) {
      const last = i === days.length - 1; // ends at the edge rather than past it
      el.append(svg('text', { class: 'chart-axis', x: last ? x + 2 * bar : x + bar, y: H - 6, 'text-anchor': last ? 'end' : 'middle' },
        short.format(new Date(`${d.date}T00:00:00Z`))));
    }
  });
  return h('figure', { class: 'chart-box' }, el);
}

function legend() {
  return h('ul', { class: 'chart-legend', 'aria-hidden': 'true' },
    h('li', {}, h('span', { class: 'swatch swatch-views' }), t('stats.views')),
    h('li', {}, h('span', { class: 'swatch swatch-downloads' }), t('stats.downloads')));
}

// table is the chart's accessible alternative: every day with its counts.
function table(days) {
  const long = dayFormat({ dateStyle: 'medium' });
  return h('details', { class: 'chart-table' },
    h('summary', {}, t('docstats.asTable')),
    h('table', { class: 'stats-table' },
      h('caption', {}, t('docstats.tableCaption', { days: DAYS })),
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col' }, t('docstats.date')),
        h('th', { scope: 'col', class: 'num' }, t('stats.views')),
        h('th', { scope: 'col', class: 'num' }, t('stats.downloads')))),
      h('tbody', {}, [...days].reverse().map((d) => h('tr', {},
        h('th', { scope: 'row' }, h('time', { datetime: d.date }, long.format(new Date(`${d.date}T00:00:00Z`)))),
        h('td', { class: 'num' }, fmtNumber(d.views)),
        h('td', { class: 'num' }, fmtNumber(d.downloads)))))));
}
