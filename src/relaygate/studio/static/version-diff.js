// Two versions of a deployment side by side: messages line by line, then parameters, model,
// variants and routing, each section marked changed or unchanged.

import { h } from './dom.js';
import { contentText, sortKeys } from './deployment-rules.js';
import { folded, sideBySide } from './line-diff.js';

const pretty = (value) => (value === null || value === undefined ? [] : JSON.stringify(sortKeys(value), null, 2).split('\n'));

function messageLines(messages) {
  const lines = [];
  (messages ?? []).forEach((message, index) => {
    if (index) lines.push('');
    lines.push(`[${index + 1} · ${message.role}]`);
    lines.push(...contentText(message.content).split('\n'));
  });
  return lines;
}

/** The sections compared, each as lines of text. */
export function sectionsOf(content) {
  const routing = {};
  for (const name of ['fallbacks', 'retry', 'timeout', 'cache']) {
    const value = content?.[name];
    if (value !== null && value !== undefined && !(Array.isArray(value) && !value.length)) routing[name] = value;
  }
  return [
    { title: 'Messages', lines: messageLines(content?.messages) },
    { title: 'Parameters', lines: pretty(content?.parameters ?? {}) },
    { title: 'Model', lines: content?.model ? [content.model] : [] },
    { title: 'Variants', lines: content?.variants?.length ? pretty(content.variants) : [] },
    { title: 'Routing', lines: Object.keys(routing).length ? pretty(routing) : [] },
    { title: 'Name and description', lines: [`display_name: ${content?.display_name ?? ''}`, ...(content?.description ? ['', ...content.description.split('\n')] : [])] },
  ];
}

function cell(side, line, kind) {
  const number = h('td', { class: 'diff-num' }, line ? String(line.n) : '');
  if (!line) return [number, h('td', { class: 'diff-text diff-empty' })];
  const marked = kind === 'same' ? null : side === 'left' ? 'del' : 'ins';
  const text = line.text === '' ? '\u00a0' : line.text;
  return [number, h('td', { class: ['diff-text', marked && `diff-${marked}`] },
    marked ? h(marked, null, text) : text)];
}

function diffTable(title, rows, labels) {
  return h('table', { class: 'diff-table' },
    h('caption', { class: 'visually-hidden' }, `${title}: ${labels[0]} on the left, ${labels[1]} on the right`),
    h('colgroup', null, h('col', { class: 'diff-col-num' }), h('col'), h('col', { class: 'diff-col-num' }), h('col')),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', colspan: '2' }, labels[0]),
      h('th', { scope: 'col', colspan: '2' }, labels[1]))),
    h('tbody', null, rows.map((row) => (row.kind === 'skip'
      ? h('tr', { class: 'diff-skip' }, h('td', { colspan: '4' }, `… ${row.count} unchanged line${row.count === 1 ? '' : 's'}`))
      : h('tr', { class: `diff-${row.kind}` }, cell('left', row.left, row.kind), cell('right', row.right, row.kind))))));
}

/** The comparison of two versions' contents; labels name the sides, e.g. ['Version 1', 'Version 2']. */
export function versionDiff(before, after, labels) {
  const left = sectionsOf(before);
  const right = sectionsOf(after);
  const unchanged = [];
  const changed = [];
  left.forEach((section, index) => {
    const rows = sideBySide(section.lines, right[index].lines);
    if (rows.every((row) => row.kind === 'same')) unchanged.push(section.title);
    else {
      const count = rows.filter((row) => row.kind !== 'same').length;
      changed.push(h('section', { class: 'diff-section' },
        h('h3', null, section.title, ' ', h('span', { class: 'badge badge-warning' }, `${count} line${count === 1 ? '' : 's'} changed`)),
        diffTable(section.title, folded(rows), labels)));
    }
  });
  return h('div', { class: 'version-diff' },
    changed.length ? changed : h('p', { class: 'muted' }, 'These versions have the same content.'),
    unchanged.length && changed.length ? h('p', { class: 'muted small' }, `Unchanged: ${unchanged.join(', ')}.`) : null);
}
