// Labelled form fields with a reserved message line (hint, or the error when there is one), so
// showing an error never moves the rest of the form.

import { h, uid } from './dom.js';

/**
 * field({name, label, control, wrapper, hint, required}) -> {el, control, name, setError, setHint, setRequired}
 * `wrapper` is what goes in the page (default: the control itself), e.g. an input with a button.
 * The control gets its id, name, aria-describedby and aria-invalid wired up.
 */
export function field({ name, label, control, wrapper = control, hint = '', required = false, marked = true, className = '' }) {
  const id = uid(`f-${name}`);
  const hintId = uid('hint');
  const errorId = uid('error');
  control.id = id;
  control.name = name;
  control.setAttribute('aria-describedby', `${hintId} ${errorId}`);
  if (required) control.setAttribute('aria-required', 'true');
  const hintEl = h('p', { class: 'field-hint', id: hintId }, hint);
  const errorEl = h('p', { class: 'field-error', id: errorId });
  let mark = null;
  if (marked) mark = required ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *') : h('span', { class: 'optional' }, ' (optional)');
  const labelEl = h('label', { for: id, class: 'field-label' }, label, mark);
  const el = h('div', { class: ['field', className] }, labelEl, wrapper, h('div', { class: 'field-message' }, hintEl, errorEl));
  return {
    el,
    control,
    name,
    label: labelEl,
    setError(message) {
      errorEl.textContent = message || '';
      hintEl.hidden = Boolean(message);
      if (message) control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    },
    setHint(text) {
      hintEl.textContent = text;
    },
    setRequired(isRequired) {
      labelEl.querySelector('.required, .optional')?.replaceWith(isRequired
        ? h('span', { class: 'required', 'aria-hidden': 'true' }, ' *')
        : h('span', { class: 'optional' }, ' (optional)'));
      if (isRequired) control.setAttribute('aria-required', 'true');
      else control.removeAttribute('aria-required');
    },
  };
}

export function textInput({ type = 'text', value = '', placeholder, autocomplete = 'off', inputmode, spellcheck = false } = {}) {
  return h('input', {
    type, value, placeholder, autocomplete, inputmode, class: 'input', spellcheck: spellcheck ? 'true' : 'false',
  });
}

export function textArea({ value = '', rows = 3, placeholder } = {}) {
  const area = h('textarea', { rows, placeholder, class: 'input' });
  area.value = value;
  return area;
}

/** options: [[value, label], ...]; placeholder: text of an empty first option. */
export function selectInput(options, { value = '', placeholder } = {}) {
  const select = h('select', { class: 'input' },
    placeholder !== undefined ? h('option', { value: '' }, placeholder) : null,
    options.map(([optionValue, label]) => h('option', { value: optionValue }, label)));
  select.value = value ?? '';
  return select;
}

/** A checkbox drawn as a switch, its label and hint beside it. */
export function toggle({ name, label, hint = '', checked = false }) {
  const id = uid(`t-${name}`);
  const hintId = uid('hint');
  const input = h('input', { type: 'checkbox', id, name, class: 'switch', checked, 'aria-describedby': hint ? hintId : null });
  const el = h('div', { class: 'toggle' },
    input,
    h('div', { class: 'toggle-text' },
      h('label', { for: id }, label),
      hint ? h('p', { class: 'field-hint', id: hintId }, hint) : null));
  return { el, control: input, name };
}

/** A password input with a Show/Hide button. */
export function secretInput({ placeholder } = {}) {
  const input = textInput({ type: 'password', placeholder, autocomplete: 'new-password' });
  const button = h('button', { type: 'button', class: 'button button-small button-quiet input-addon', 'aria-pressed': 'false' }, 'Show');
  button.addEventListener('click', () => {
    const show = input.type === 'password';
    input.type = show ? 'text' : 'password';
    button.textContent = show ? 'Hide' : 'Show';
    button.setAttribute('aria-pressed', show ? 'true' : 'false');
  });
  return { input, el: h('div', { class: 'input-group' }, input, button) };
}

/**
 * Wire "validate on blur once touched, re-check while typing once wrong" on a set of fields.
 * check(name) returns the error message for that field or ''.
 */
export function liveValidation(fields, check) {
  for (const item of Object.values(fields)) {
    const { control } = item;
    let touched = false;
    const run = () => item.setError(check(item.name));
    control.addEventListener('input', () => {
      touched = true;
      if (control.getAttribute('aria-invalid') === 'true') run();
    });
    control.addEventListener('change', () => { touched = true; run(); });
    control.addEventListener('blur', () => { if (touched) run(); });
  }
}

/** Show every error of {name: message}; focus the first invalid field. Returns the count. */
export function showErrors(fields, errors) {
  let first = null;
  let count = 0;
  for (const item of Object.values(fields)) {
    const message = errors[item.name] || '';
    item.setError(message);
    if (message) {
      count += 1;
      first ??= item.control;
    }
  }
  first?.focus();
  return count;
}
