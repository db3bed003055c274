// Field/value rows: a variant's context rules, or the context of a test call. A value with commas
// is a list ("production, staging": any of them matches). A value loaded as a number or a boolean
// keeps its type while its text is unchanged, so saving an untouched rule never changes its meaning.

import { h, uid } from './dom.js';
import { textInput } from './forms.js';

function shown(value) {
  return Array.isArray(value) ? value.map(String).join(', ') : String(value ?? '');
}

function parsed(text) {
  const parts = text.split(',').map((part) => part.trim()).filter(Boolean);
  return parts.length > 1 ? parts : (parts[0] ?? '');
}

/**
 * pairRows({values, fieldLabel, valueLabel, addLabel, required}) -> {el, read(problems), target(path), error}
 * `values` is an object {field: value | [values]}; read() gives the same shape back.
 */
export function pairRows({ values = {}, fieldLabel = 'Field', valueLabel = 'Value', addLabel = 'Add rule', required = false,
  fieldPlaceholder = 'environments', valuePlaceholder = 'production' } = {}) {
  const body = h('div', { class: 'pair-rows' });
  const errorEl = h('p', { class: 'field-error', role: 'alert' });
  const addButton = h('button', { type: 'button', class: 'button button-small' }, `+ ${addLabel}`);
  const rows = [];

  const handleOf = (input) => ({
    setError(message) {
      errorEl.textContent = message || '';
      if (message) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    },
    focus: () => input.focus(),
  });

  function add(name = '', value = '', { focus = false } = {}) {
    const id = uid('pair');
    const nameInput = textInput({ value: name, placeholder: fieldPlaceholder });
    const valueInput = textInput({ value: shown(value), placeholder: valuePlaceholder });
    nameInput.id = `${id}-field`;
    valueInput.id = `${id}-value`;
    const remove = h('button', { type: 'button', class: 'button button-small button-quiet' }, 'Remove');
    const row = {
      nameInput, valueInput, original: value, originalText: shown(value),
      el: h('div', { class: 'pair-row' },
        h('label', { class: 'visually-hidden', for: nameInput.id }, fieldLabel),
        nameInput,
        h('span', { class: 'pair-equals', 'aria-hidden': 'true' }, '='),
        h('label', { class: 'visually-hidden', for: valueInput.id }, valueLabel),
        valueInput,
        remove),
    };
    remove.setAttribute('aria-label', 'Remove this row');
    remove.addEventListener('click', () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      (rows.at(-1)?.valueInput ?? addButton).focus();
    });
    rows.push(row);
    body.append(row.el);
    if (focus) nameInput.focus();
    return row;
  }

  addButton.addEventListener('click', () => add('', '', { focus: true }));
  for (const [name, value] of Object.entries(values ?? {})) add(name, value);
  if (required && !rows.length) add();

  const error = handleOf(addButton);
  return {
    el: h('div', { class: 'pair-rows-wrap' }, body, errorEl, h('div', { class: 'list-add' }, addButton)),
    error,
    read(problems) {
      const result = {};
      const before = problems.count;
      for (const row of rows) {
        row.nameInput.removeAttribute('aria-invalid');
        row.valueInput.removeAttribute('aria-invalid');
      }
      errorEl.textContent = '';
      for (const row of rows) {
        const name = row.nameInput.value.trim();
        const text = row.valueInput.value.trim();
        if (!name && !text) continue;
        if (!name) problems.add(handleOf(row.nameInput), `Name the ${fieldLabel.toLowerCase()} for “${text}”.`);
        else if (name in result) problems.add(handleOf(row.nameInput), `“${name}” is listed twice: give it one row.`);
        else if (!text) problems.add(handleOf(row.valueInput), `Give “${name}” a value.`);
        else result[name] = text === row.originalText ? row.original : parsed(text);
      }
      if (required && !Object.keys(result).length && problems.count === before) {
        problems.add(handleOf(rows[0]?.nameInput ?? addButton), 'Add at least one rule: a variant serves the calls whose context matches it.');
      }
      return result;
    },
    /** ['locale'] -> the value of the row named locale; anything else -> the rows' message line. */
    target(path) {
      const row = rows.find((r) => r.nameInput.value.trim() === path[0]);
      return row ? handleOf(row.valueInput) : error;
    },
  };
}
