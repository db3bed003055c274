// Building DOM nodes from data. Text always goes in as text (never innerHTML), and there is
// no inline `style` attribute: the Content-Security-Policy forbids both on purpose.

const PROPERTIES = new Set(['value', 'checked', 'indeterminate', 'selected']);

function setProp(el, key, value) {
  if (value === null || value === undefined || value === false) return;
  if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
  else if (key === 'dataset') Object.assign(el.dataset, value);
  else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
  else if (PROPERTIES.has(key)) el[key] = value;
  else if (key === 'style') throw new Error('inline style attributes are blocked by the CSP; use a class');
  else el.setAttribute(key, value === true ? '' : String(value));
}

export function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** h('a', {href, class}, 'text', child, ...) -> HTMLElement */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) setProp(el, key, value);
  return append(el, children);
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Same as h() for SVG elements. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs ?? {})) setProp(el, key, value);
  return append(el, children);
}

export function replace(parent, ...children) {
  parent.replaceChildren();
  return append(parent, children);
}

let counter = 0;
/** A document-unique id for label/aria wiring. */
export function uid(prefix = 'id') {
  counter += 1;
  return `${prefix}-${counter}`;
}
