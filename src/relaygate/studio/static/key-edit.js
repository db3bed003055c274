// The dialog that edits an existing key: its per-minute limits, its budget, when it expires and
// which models it may call (PATCH /v2/api-keys/{id}). Each error shows under the field it is about.

import { api } from './api.js';
import { PERIODS } from './budget-view.js';
import { h, replace, uid } from './dom.js';
import { field, liveValidation, selectInput, showErrors, textInput } from './forms.js';
import { notice } from './ui.js';

function pad(n) {
  return String(n).padStart(2, '0');
}

/** A time as a datetime-local input's value, in the browser's zone. */
function localValue(iso) {
  const date = iso ? new Date(iso) : null;
  if (!date || Number.isNaN(date.getTime())) return '';
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function dateValue(iso) {
  return localValue(iso).slice(0, 10);
}

function numberInput(value, placeholder, inputmode) {
  const input = textInput({ type: 'number', value: value ?? '', placeholder, inputmode });
  input.min = inputmode === 'numeric' ? '1' : '0';
  input.step = inputmode === 'numeric' ? '1' : 'any';
  return input;
}

/** The allow-list control: every model, or only the ticked ones. */
function modelChooser(models, allowed) {
  const groupName = uid('models-mode');
  const all = h('input', { type: 'radio', name: groupName, id: uid('all-models'), value: 'all', checked: !allowed });
  const some = h('input', { type: 'radio', name: groupName, id: uid('some-models'), value: 'some', checked: Boolean(allowed) });
  const known = [...new Set([...models, ...(allowed ?? [])])].sort();
  const boxes = known.map((id) => {
    const box = h('input', { type: 'checkbox', id: uid('model'), value: id, checked: Boolean(allowed?.includes(id)) });
    return { id, box, el: h('li', { class: 'checkbox-inline' }, box, h('label', { for: box.id }, h('code', null, id))) };
  });
  const list = h('ul', { class: 'model-choices', 'aria-label': 'Models this key may call' }, boxes.map((item) => item.el));
  const errorId = uid('error');
  const error = h('p', { class: 'field-error', id: errorId });
  const sync = () => {
    error.textContent = '';
    list.hidden = !some.checked;
    for (const { box } of boxes) box.disabled = !some.checked;
  };
  all.addEventListener('change', sync);
  some.addEventListener('change', sync);
  for (const { box } of boxes) box.addEventListener('change', () => { error.textContent = ''; });
  sync();
  const el = h('fieldset', { class: 'model-chooser', 'aria-describedby': errorId },
    h('legend', { class: 'field-label' }, 'Models'),
    h('div', { class: 'checkbox-inline' }, all, h('label', { for: all.id }, 'Every model of the workspace')),
    h('div', { class: 'checkbox-inline' }, some, h('label', { for: some.id }, 'Only the models ticked below')),
    known.length ? list : h('p', { class: 'muted small' }, 'This workspace has no models yet.'),
    error);
  return {
    el,
    value: () => (some.checked ? boxes.filter(({ box }) => box.checked).map(({ id }) => id) : null),
    setError(message) {
      error.textContent = message || '';
      if (message) (boxes.find(({ box }) => !box.disabled)?.box ?? some).focus();
    },
  };
}

function bodyOf(key, value, models) {
  const body = {
    limits: {
      requests_per_minute: value('requests_per_minute') ? Number(value('requests_per_minute')) : null,
      tokens_per_minute: value('tokens_per_minute') ? Number(value('tokens_per_minute')) : null,
    },
    expires_at: value('key_expires_at') ? new Date(value('key_expires_at')).toISOString() : null,
    allowed_models: models.value(),
  };
  const budgetEnds = value('budget_expires_at') ? new Date(`${value('budget_expires_at')}T23:59:59`).toISOString() : null;
  const budget = value('amount_usd') === '' ? null
    : { amount_usd: Number(value('amount_usd')), period: value('period'), expires_at: budgetEnds };
  const before = key.budget;
  const same = budget && before && Number(before.amount_usd) === budget.amount_usd && before.period === budget.period
    && dateValue(before.expires_at) === value('budget_expires_at');
  // A budget sent again is a new budget (its ledger restarts from the stored spend): send it only when it changed.
  if (!same && !(budget === null && !before)) body.budget = budget;
  if (body.budget && body.budget.expires_at === null) delete body.budget.expires_at;
  return body;
}

/** Edit ``key``; resolves with the saved key object, or null when cancelled. */
export function editKeyDialog(key, models, opener) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const fields = {
      requests_per_minute: field({ name: 'requests_per_minute', label: 'Requests per minute', control: numberInput(key.limits?.requests_per_minute, 'No limit', 'numeric'), hint: 'Above it: HTTP 429.' }),
      tokens_per_minute: field({ name: 'tokens_per_minute', label: 'Tokens per minute', control: numberInput(key.limits?.tokens_per_minute, 'No limit', 'numeric'), hint: 'Prompt + completion.' }),
      amount_usd: field({ name: 'amount_usd', label: 'Budget (USD)', control: numberInput(key.budget?.amount_usd, 'No budget', 'decimal'), hint: 'Empty: no budget.' }),
      period: field({ name: 'period', label: 'Budget period', control: selectInput(PERIODS.map(([v, l]) => [v, l[0].toUpperCase() + l.slice(1)]), { value: key.budget?.period ?? 'month' }), hint: 'When spending resets.' }),
      budget_expires_at: field({ name: 'budget_expires_at', label: 'Budget ends', control: textInput({ type: 'date', value: dateValue(key.budget?.expires_at) }), hint: 'Last day it applies.' }),
      key_expires_at: field({ name: 'key_expires_at', label: 'Key expires', control: textInput({ type: 'datetime-local', value: localValue(key.expires_at) }), hint: 'Empty: never. After it: HTTP 401.' }),
    };
    const chooser = modelChooser(modelsList(models), key.allowed_models ?? null);
    const value = (name) => fields[name].control.value.trim();
    const check = (name) => {
      const text = value(name);
      if ((name === 'requests_per_minute' || name === 'tokens_per_minute') && text !== '') {
        const n = Number(text);
        return Number.isInteger(n) && n >= 1 && n <= 1e9 ? '' : 'Enter a whole number from 1 to 1,000,000,000, or leave it empty.';
      }
      if (name === 'amount_usd' && text !== '') {
        const n = Number(text);
        return Number.isFinite(n) && n >= 0 && n <= 1e9 ? '' : 'Enter an amount of 0 or more (USD), or leave it empty.';
      }
      if (name === 'budget_expires_at' && text !== '' && value('amount_usd') === '') return 'Set a budget amount for this end date to apply.';
      if (name === 'key_expires_at' && text !== '' && new Date(text) <= new Date()) return 'Choose a time in the future, or revoke the key to stop it now.';
      return '';
    };
    liveValidation(fields, check);
    const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    const errorSlot = h('div', { class: 'error-slot' });
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const save = h('button', { type: 'submit', class: 'button button-primary' }, 'Save changes');
    const form = h('form', { class: 'key-edit-form', novalidate: true },
      h('div', { class: 'grid-2 grid-tight' }, fields.requests_per_minute.el, fields.tokens_per_minute.el),
      h('div', { class: 'grid-2 grid-tight' }, fields.amount_usd.el, fields.period.el),
      h('div', { class: 'grid-2 grid-tight' }, fields.budget_expires_at.el, fields.key_expires_at.el),
      chooser.el, errorSlot, status,
      h('div', { class: 'dialog-actions' }, cancel, save));
    const dialog = h('dialog', { class: 'dialog key-edit-dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, `Edit ${key.name}`),
      h('p', { class: 'muted small' }, h('code', null, `${key.prefix}…`), ' · changes apply to the next call.'),
      form);
    let result = null;
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(result);
    });
    const fieldFor = (param) => {
      const name = String(param ?? '');
      if (name.startsWith('allowed_models')) return chooser;
      if (name === 'expires_at') return fields.key_expires_at;
      if (name === 'budget.expires_at') return fields.budget_expires_at;
      const last = name.split('.').pop();
      return fields[last] ?? null;
    };
    form.addEventListener('change', () => {
      if (status.textContent === 'Some fields need attention.') status.textContent = '';
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(errorSlot);
      chooser.setError('');
      const errors = Object.fromEntries(Object.keys(fields).map((name) => [name, check(name)]));
      if (showErrors(fields, errors) > 0) {
        status.textContent = 'Some fields need attention.';
        return;
      }
      const allowed = chooser.value();
      if (allowed && allowed.length === 0) {
        chooser.setError('Tick at least one model, or choose every model.');
        status.textContent = 'Some fields need attention.';
        return;
      }
      save.disabled = true;
      status.textContent = 'Saving…';
      try {
        result = await api(`/v2/api-keys/${encodeURIComponent(key.id)}`, { method: 'PATCH', body: bodyOf(key, value, chooser) });
        dialog.close();
      } catch (error) {
        status.textContent = '';
        const target = fieldFor(error.param);
        if (target) {
          target.setError(error.message);
          target.control?.focus();
        } else {
          replace(errorSlot, notice('error', `The changes were not saved. ${error.message}`));
        }
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    fields.requests_per_minute.control.focus();
  });
}

function modelsList(models) {
  return Array.isArray(models) ? models : [];
}
