// An editable, ordered list of items (messages, variants, fallbacks): each item in a fieldset
// named by its position, with Move up / Move down / Remove, and an Add button under the list.
// The list owns the order; an item owns its own fields.

import { h } from './dom.js';
import { announce } from './ui.js';

/**
 * orderedList({values, make, itemLabel, addLabel, max, min, onChange, className})
 *   make(value) -> {el, read(problems), target(path) -> handle | null, focus()}   (one item's editor)
 *   A handle is what a problem is shown on: {setError(message)} and focus() or a .control.
 *   itemLabel(index) -> 'Message 2'                               (the legend, renumbered on moves)
 * Returns {el, items(), read(problems), target(path), add(value), error}.
 * `error` is the list-level message line (e.g. "Add at least one message").
 */
export function orderedList({ values = [], make, itemLabel, addLabel, max = Infinity, min = 0, onChange, className = '' }) {
  const list = h('ol', { class: ['ordered-list', className] });
  const addButton = h('button', { type: 'button', class: 'button button-small' }, `+ ${addLabel}`);
  const errorEl = h('p', { class: 'field-error', role: 'alert' });
  const entries = [];

  const changed = () => {
    entries.forEach((entry, index) => {
      const label = itemLabel(index);
      entry.legend.textContent = label;
      entry.up.disabled = index === 0;
      entry.down.disabled = index === entries.length - 1;
      entry.remove.disabled = entries.length <= min;
      entry.up.setAttribute('aria-label', `Move ${label.toLowerCase()} up`);
      entry.down.setAttribute('aria-label', `Move ${label.toLowerCase()} down`);
      entry.remove.setAttribute('aria-label', `Remove ${label.toLowerCase()}`);
      list.append(entry.li);
    });
    addButton.disabled = entries.length >= max;
    onChange?.();
  };

  const move = (entry, by, button) => {
    const from = entries.indexOf(entry);
    const to = from + by;
    if (to < 0 || to >= entries.length) return;
    entries.splice(from, 1);
    entries.splice(to, 0, entry);
    changed();
    announce(`${itemLabel(from)} is now ${itemLabel(to).toLowerCase()}.`);
    // At the top or bottom the pressed button is disabled: keep the focus on the item's other one.
    (button.disabled ? (button === entry.up ? entry.down : entry.up) : button).focus();
  };

  function add(value, { focus = false } = {}) {
    const item = make(value);
    const up = h('button', { type: 'button', class: 'button button-small button-quiet' }, '↑');
    const down = h('button', { type: 'button', class: 'button button-small button-quiet' }, '↓');
    const remove = h('button', { type: 'button', class: 'button button-small button-danger-quiet' }, 'Remove');
    const legend = h('legend', { class: 'list-item-legend' });
    const li = h('li', { class: 'list-item' },
      h('fieldset', { class: 'list-item-fields' }, legend,
        h('div', { class: 'list-item-tools' }, up, down, remove),
        item.el));
    const entry = { item, li, legend, up, down, remove };
    up.addEventListener('click', () => move(entry, -1, up));
    down.addEventListener('click', () => move(entry, 1, down));
    remove.addEventListener('click', () => {
      const index = entries.indexOf(entry);
      const label = itemLabel(index);
      entries.splice(index, 1);
      li.remove();
      changed();
      announce(`${label} removed.`);
      if (entries.length) entries[Math.min(index, entries.length - 1)].item.focus();
      else addButton.focus();
    });
    entries.push(entry);
    changed();
    if (focus) item.focus?.();
    return item;
  }

  addButton.addEventListener('click', () => {
    add(undefined, { focus: true });
    errorEl.textContent = '';
  });
  for (const value of values) add(value);
  changed();

  const error = {
    setError(message) { errorEl.textContent = message || ''; },
    focus() {
      if (entries.length) entries[0].item.focus();
      else addButton.focus();
    },
  };

  return {
    el: h('div', { class: 'ordered-list-wrap' }, list, errorEl, h('div', { class: 'list-add' }, addButton)),
    error,
    items: () => entries.map((entry) => entry.item),
    add,
    /** Each item's value, in order; problems it finds go to problems.add(handle, message). */
    read(problems) {
      errorEl.textContent = '';
      return entries.map((entry) => entry.item.read(problems));
    },
    /** The error handle for ['3', 'content'] style paths: an item's field, or the list itself. */
    target(path) {
      if (!path.length || typeof path[0] !== 'number') return error;
      const entry = entries[path[0]];
      if (!entry) return error;
      return entry.item.target(path.slice(1)) ?? error;
    },
  };
}

/** The place problems found while reading a form are collected, before they are shown. */
export class Problems {
  list = [];

  add(handle, message) {
    this.list.push({ handle, message });
  }

  get count() {
    return this.list.length;
  }
}
