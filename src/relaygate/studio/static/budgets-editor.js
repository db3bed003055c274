// The workspace's and identities' budgets (/v2/budgets): listed with where each stands this period,
// added, edited in a dialog and deleted. A key's own budget is edited on the API keys page.

import { api, send } from './api.js';
import { PERIODS, budgetBlock } from './budget-view.js';
import { h, replace, uid } from './dom.js';
import { DASH, compact, shortDate } from './format.js';
import { field, liveValidation, selectInput, showErrors, textInput } from './forms.js';
import { confirmDialog, emptyState, notice } from './ui.js';

const SCOPES = [['workspace', 'Whole workspace'], ['identity', 'One identity']];

function numberInput(value, placeholder, whole) {
  const input = textInput({ type: 'number', value: value ?? '', placeholder, inputmode: whole ? 'numeric' : 'decimal' });
  input.min = whole ? '1' : '0';
  input.step = whole ? '1' : 'any';
  return input;
}

function dateValue(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** The fields of a budget form; ``budget`` fills them (editing), ``withScope`` adds scope and identity. */
function budgetFields(budget, withScope) {
  const fields = {};
  if (withScope) {
    fields.scope = field({ name: 'scope', label: 'Applies to', required: true, control: selectInput(SCOPES, { value: 'workspace' }), hint: 'Every call, or one identity’s.' });
    fields.subject_id = field({ name: 'subject_id', label: 'Identity', control: textInput({ placeholder: 'user-42' }), hint: 'The identity id calls send.' });
  }
  Object.assign(fields, {
    amount_usd: field({ name: 'amount_usd', label: 'Budget (USD)', control: numberInput(budget?.amount_usd, 'No budget', false), hint: 'Refused once spent.' }),
    period: field({ name: 'period', label: 'Period', control: selectInput(PERIODS.map(([v, l]) => [v, l[0].toUpperCase() + l.slice(1)]), { value: budget?.period ?? 'month' }), hint: 'When spending resets.' }),
    requests_per_minute: field({ name: 'requests_per_minute', label: 'Requests per minute', control: numberInput(budget?.requests_per_minute, 'No limit', true), hint: 'Above it: HTTP 429.' }),
    tokens_per_minute: field({ name: 'tokens_per_minute', label: 'Tokens per minute', control: numberInput(budget?.tokens_per_minute, 'No limit', true), hint: 'Prompt + completion.' }),
    expires_at: field({ name: 'expires_at', label: 'Ends', control: textInput({ type: 'date', value: dateValue(budget?.expires_at) }), hint: 'Last day it applies.' }),
  });
  const value = (name) => fields[name]?.control.value.trim() ?? '';
  const check = (name) => {
    const text = value(name);
    if (name === 'subject_id' && value('scope') === 'identity' && !text) return 'Enter the identity this budget is for.';
    if (name === 'subject_id' && text.length > 128) return 'Use at most 128 characters.';
    if ((name === 'requests_per_minute' || name === 'tokens_per_minute') && text !== '') {
      const n = Number(text);
      return Number.isInteger(n) && n >= 1 && n <= 1e9 ? '' : 'Enter a whole number from 1 to 1,000,000,000, or leave it empty.';
    }
    if (name === 'amount_usd') {
      if (text === '' && !value('requests_per_minute') && !value('tokens_per_minute')) return 'Set an amount, or a limit per minute.';
      const n = Number(text);
      if (text !== '' && !(Number.isFinite(n) && n >= 0 && n <= 1e9)) return 'Enter an amount of 0 or more (USD).';
    }
    return '';
  };
  liveValidation(fields, check);
  const sync = () => {
    if (!withScope) return;
    fields.subject_id.el.hidden = value('scope') !== 'identity';
  };
  fields.scope?.control.addEventListener('change', sync);
  sync();
  const body = () => {
    const out = {
      amount_usd: value('amount_usd') === '' ? null : Number(value('amount_usd')),
      period: value('period'),
      requests_per_minute: value('requests_per_minute') ? Number(value('requests_per_minute')) : null,
      tokens_per_minute: value('tokens_per_minute') ? Number(value('tokens_per_minute')) : null,
      expires_at: value('expires_at') ? new Date(`${value('expires_at')}T23:59:59`).toISOString() : null,
    };
    if (withScope) {
      out.scope = value('scope');
      if (out.scope === 'identity') out.subject_id = value('subject_id');
    }
    return out;
  };
  const validate = () => showErrors(fields, Object.fromEntries(Object.keys(fields).map((name) => [name, fields[name].el.hidden ? '' : check(name)])));
  const showApiError = (error, slot, what) => {
    const target = fields[String(error.param ?? '').split('.').pop()];
    if (target) {
      target.setError(error.message);
      target.control.focus();
    } else {
      replace(slot, notice('error', `${what} ${error.message}`));
    }
  };
  return { fields, body, validate, showApiError };
}

function editDialog(budget, opener) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const form = budgetFields(budget, false);
    const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
    const errorSlot = h('div', { class: 'error-slot' });
    const cancel = h('button', { type: 'button', class: 'button' }, 'Cancel');
    const save = h('button', { type: 'submit', class: 'button button-primary' }, 'Save budget');
    const f = form.fields;
    const el = h('form', { novalidate: true },
      h('div', { class: 'grid-2 grid-tight' }, f.amount_usd.el, f.period.el),
      h('div', { class: 'grid-2 grid-tight' }, f.requests_per_minute.el, f.tokens_per_minute.el),
      f.expires_at.el, errorSlot, status, h('div', { class: 'dialog-actions' }, cancel, save));
    const dialog = h('dialog', { class: 'dialog key-edit-dialog', 'aria-labelledby': titleId },
      h('h2', { id: titleId }, budget.scope === 'workspace' ? 'Edit the workspace budget' : `Edit the budget of ${budget.subject_id}`), el);
    let result = null;
    cancel.addEventListener('click', () => dialog.close());
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(result);
    });
    el.addEventListener('submit', async (event) => {
      event.preventDefault();
      replace(errorSlot);
      if (form.validate() > 0) {
        status.textContent = 'Some fields need attention.';
        return;
      }
      save.disabled = true;
      status.textContent = 'Saving…';
      try {
        result = await api(`/v2/budgets/${encodeURIComponent(budget.id)}`, { method: 'PATCH', body: form.body() });
        dialog.close();
      } catch (error) {
        status.textContent = '';
        form.showApiError(error, errorSlot, 'The budget was not saved.');
      } finally {
        save.disabled = false;
      }
    });
    document.body.append(dialog);
    dialog.showModal();
    f.amount_usd.control.focus();
  });
}

function limitsText(budget) {
  const parts = [];
  if (budget.requests_per_minute) parts.push(`${compact(budget.requests_per_minute)} req/min`);
  if (budget.tokens_per_minute) parts.push(`${compact(budget.tokens_per_minute)} tokens/min`);
  return parts.length ? parts.join(' · ') : 'None';
}

/** The Budgets section: a table of the workspace's and identities' budgets and a form to add one. */
export function budgetsSection({ signal, onChange }) {
  const tableSlot = h('div', { class: 'table-wrap table-reserve' });
  const messageSlot = h('div', { class: 'error-slot' });
  const form = budgetFields(null, true);
  const f = form.fields;
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Add budget');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const formError = h('div', { class: 'error-slot' });
  const addForm = h('form', { class: 'card budget-form', novalidate: true, 'aria-labelledby': 'add-budget-title' },
    h('h3', { id: 'add-budget-title' }, 'Add a budget'),
    h('div', { class: 'grid-4' }, f.scope.el, f.subject_id.el, f.amount_usd.el, f.period.el),
    h('div', { class: 'grid-4' }, f.requests_per_minute.el, f.tokens_per_minute.el, f.expires_at.el,
      h('div', { class: 'form-actions form-actions-end' }, submit, status)),
    formError);
  const el = h('section', { class: 'budgets-section', 'aria-labelledby': 'budgets-title' },
    h('div', { class: 'section-header' }, h('h2', { id: 'budgets-title' }, 'Budgets')),
    h('p', { class: 'muted' }, 'The workspace’s and identities’ budgets and limits. A key’s own budget is set on the ',
      h('a', { href: '/studio/keys' }, 'API keys'), ' page.'),
    messageSlot, tableSlot, addForm);

  let budgets = [];
  const draw = () => {
    const shown = budgets.filter((b) => b.scope !== 'api_key');
    if (!shown.length) {
      replace(tableSlot, emptyState('No budgets yet', 'Add one below: calls past it are refused with HTTP 429.'));
      return;
    }
    replace(tableSlot, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Budgets of the workspace and its identities'),
      h('thead', null, h('tr', null, ['Applies to', 'Budget this period', 'Rate limits', 'Ends', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, shown.map((budget) => {
        const name = budget.scope === 'workspace' ? 'Whole workspace' : `Identity ${budget.subject_id}`;
        const edit = h('button', { type: 'button', class: 'button button-small', 'aria-label': `Edit budget: ${name}` }, 'Edit');
        const remove = h('button', { type: 'button', class: 'button button-small button-danger-quiet', 'aria-label': `Delete budget: ${name}` }, 'Delete');
        edit.addEventListener('click', async () => {
          const saved = await editDialog(budget, edit);
          if (!saved) return;
          replace(messageSlot, notice('success', `The budget of ${name.toLowerCase()} was saved.`));
          await changed();
        });
        remove.addEventListener('click', async () => {
          const ok = await confirmDialog({ title: `Delete this budget?`, message: `${name}: its limits stop at once.`, confirmLabel: 'Delete budget', danger: true });
          if (!ok) return;
          try {
            await send(`/v2/budgets/${encodeURIComponent(budget.id)}`, { method: 'DELETE' });
            replace(messageSlot, notice('success', `The budget of ${name.toLowerCase()} was deleted.`));
            await changed();
          } catch (error) {
            replace(messageSlot, notice('error', `The budget was not deleted. ${error.message}`));
          }
        });
        return h('tr', null,
          h('th', { scope: 'row', class: 'row-name' }, budget.scope === 'workspace' ? 'Whole workspace' : h('span', null, 'Identity ', h('code', null, budget.subject_id))),
          h('td', null, budget.amount_usd !== undefined ? budgetBlock(budget, null) : 'None'),
          h('td', null, limitsText(budget)),
          h('td', { class: 'nowrap' }, budget.expires_at ? shortDate(budget.expires_at) : DASH),
          h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' }, edit, remove)));
      }))));
  };

  async function load() {
    try {
      budgets = (await api('/v2/budgets', { signal })).data ?? [];
      draw();
    } catch (error) {
      if (error.name !== 'AbortError') replace(tableSlot, notice('error', `The budgets could not be loaded. ${error.message}`));
    }
  }

  async function changed() {
    await load();
    onChange?.();
  }

  addForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(formError);
    if (form.validate() > 0) {
      status.textContent = 'Some fields need attention.';
      return;
    }
    submit.disabled = true;
    status.textContent = 'Adding…';
    try {
      const body = Object.fromEntries(Object.entries(form.body()).filter(([, v]) => v !== null));
      await api('/v2/budgets', { method: 'POST', body });
      status.textContent = '';
      addForm.reset();
      f.period.control.value = 'month';
      f.scope.control.dispatchEvent(new Event('change'));
      replace(messageSlot, notice('success', 'The budget was added.'));
      await changed();
    } catch (error) {
      status.textContent = '';
      form.showApiError(error, formError, 'The budget was not added.');
    } finally {
      submit.disabled = false;
    }
  });
  replace(tableSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading budgets…'));
  return { el, load };
}
