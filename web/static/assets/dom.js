// DOM building blocks shared by every screen. Server data reaches the page
// only through these: as text nodes, or setAttribute on attributes the
// calling code chose. Nothing here parses HTML.
import { t, fmtTime } from './i18n.js?v=__ASSET_VERSION__';

const PROPS = new Set(['value', 'checked', 'selected', 'disabled', 'hidden', 'required', 'multiple']);

// h builds an element. Children that are not Nodes become text nodes.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  add(el, children);
  return el;
}

export function add(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

// fill replaces el's children, skipping null and false like h does
// (Element.replaceChildren would render them as the text "null").
export function fill(el, ...children) {
  el.replaceChildren();
  return add(el, children);
}

export const $ = (id) => document.getElementById(id);

// field is a labelled control: the <label> wraps it, so it has an accessible name.
export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('small', {}, hint) : null);
}

export function selectBox(name, options, value, label) {
  const sel = h('select', { name, 'aria-label': label }, options.map(([v, text]) => h('option', { value: v }, text)));
  sel.value = value;
  return sel;
}

export function section(title, ...body) {
  return h('section', { class: 'panel' }, h('h2', {}, title), body);
}

export function loading(text = t('common.loading')) {
  return h('p', { class: 'muted' }, text);
}

export function timeEl(s) {
  return h('time', { datetime: s || null, title: s || null }, fmtTime(s));
}

// setTitle names the browser tab after the screen.
export function setTitle(title) {
  document.title = t('title.suffix', { title });
}
