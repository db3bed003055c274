// API keys: create one (its secret shown once), see each key's last use, limits, budget (spent
// this period, refusals) and expiry; edit a key's limits, budget, expiry and allowed models; revoke.

import { api, send } from '../api.js';
import { budgetBlock } from '../budget-view.js';
import { h, replace } from '../dom.js';
import { DASH, compact, dateTime, relativeTime, shortDate } from '../format.js';
import { field, liveValidation, selectInput, showErrors, textInput } from '../forms.js';
import { adminKey, signOut } from '../session.js';
import { badge, confirmDialog, copyButton, emptyState, notice, pageHeader, setFlash } from '../ui.js';
import { editKeyDialog } from '../key-edit.js';

const PERIODS = [['day', 'per day'], ['week', 'per week'], ['month', 'per month'], ['total', 'in total']];
const MAX_LENGTH = 128;

function limitsText(limits) {
  const parts = [];
  if (limits?.requests_per_minute) parts.push(`${compact(limits.requests_per_minute)} req/min`);
  if (limits?.tokens_per_minute) parts.push(`${compact(limits.tokens_per_minute)} tokens/min`);
  return parts.length ? parts.join(' · ') : 'None';
}

function limitsCell(key) {
  const models = key.allowed_models;
  return h('div', { class: 'cell-stack' },
    h('span', null, limitsText(key.limits)),
    models ? h('span', { class: 'muted small' }, models.length === 1 ? `Only ${models[0]}` : `Only ${models.length} models`) : null);
}

function statusCell(key) {
  if (key.revoked) return badge('Revoked', 'danger');
  if (key.expired) return h('div', { class: 'cell-stack' }, badge('Expired', 'danger'), h('span', { class: 'muted small' }, shortDate(key.expires_at)));
  return h('div', { class: 'cell-stack' }, badge('Active', 'success'),
    key.expires_at ? h('span', { class: 'muted small', title: dateTime(key.expires_at) }, `Expires ${shortDate(key.expires_at)}`) : null);
}

function isSignedInKey(key) {
  const current = adminKey() ?? '';
  return Boolean(key.prefix) && current.startsWith(key.prefix.replace(/[…*.]+$/, ''));
}

function createForm(onCreated) {
  const fields = {
    name: field({ name: 'name', label: 'Name', required: true, control: textInput({ placeholder: 'billing-service' }), hint: 'Who or what uses it.' }),
    role: field({
      name: 'role', label: 'Role', required: true,
      control: selectInput([['router', 'Router'], ['admin', 'Admin']], { value: 'router' }),
      hint: 'Router keys call /v3/router; admin keys manage.',
    }),
    requests_per_minute: field({ name: 'requests_per_minute', label: 'Requests per minute', control: textInput({ type: 'number', placeholder: 'No limit', inputmode: 'numeric' }), hint: 'Above it: HTTP 429.' }),
    tokens_per_minute: field({ name: 'tokens_per_minute', label: 'Tokens per minute', control: textInput({ type: 'number', placeholder: 'No limit', inputmode: 'numeric' }), hint: 'Prompt + completion.' }),
    amount_usd: field({ name: 'amount_usd', label: 'Budget (USD)', control: textInput({ type: 'number', placeholder: 'No budget', inputmode: 'decimal' }), hint: 'Refused once spent.' }),
    period: field({ name: 'period', label: 'Budget period', control: selectInput(PERIODS.map(([v, l]) => [v, l[0].toUpperCase() + l.slice(1)]), { value: 'month' }), hint: 'When spending resets.' }),
    expires_at: field({ name: 'expires_at', label: 'Budget ends', control: textInput({ type: 'date' }), hint: 'Last day it applies.' }),
    key_expires_at: field({ name: 'key_expires_at', label: 'Key expires', control: textInput({ type: 'datetime-local' }), hint: 'Empty: never. After it: HTTP 401.' }),
  };
  for (const name of ['requests_per_minute', 'tokens_per_minute']) {
    fields[name].control.min = '1';
    fields[name].control.step = '1';
  }
  fields.amount_usd.control.min = '0';
  fields.amount_usd.control.step = 'any';

  const value = (name) => fields[name].control.value.trim();
  const check = (name) => {
    const text = value(name);
    if (name === 'name') {
      if (!text) return 'Enter a name for the key.';
      return text.length > MAX_LENGTH ? `Use at most ${MAX_LENGTH} characters (this has ${text.length}).` : '';
    }
    if ((name === 'requests_per_minute' || name === 'tokens_per_minute') && text !== '') {
      const n = Number(text);
      return Number.isInteger(n) && n >= 1 && n <= 1e9 ? '' : 'Enter a whole number from 1 to 1,000,000,000, or leave it empty.';
    }
    if (name === 'amount_usd' && text !== '') {
      const n = Number(text);
      return Number.isFinite(n) && n >= 0 && n <= 1e9 ? '' : 'Enter an amount of 0 or more (USD), or leave it empty.';
    }
    if (name === 'expires_at' && text !== '' && value('amount_usd') === '') return 'Set a budget amount for this end date to apply.';
    if (name === 'key_expires_at' && text !== '' && !(new Date(text) > new Date())) return 'Choose a time in the future, or leave it empty.';
    return '';
  };
  liveValidation(fields, check);

  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Create key');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const errorSlot = h('div', { class: 'error-slot' });
  const form = h('form', { class: 'card key-form', novalidate: true, 'aria-labelledby': 'create-key-title' },
    h('h2', { id: 'create-key-title', tabindex: '-1' }, 'Create a key'),
    h('div', { class: 'grid-4' }, fields.name.el, fields.role.el, fields.requests_per_minute.el, fields.tokens_per_minute.el),
    h('div', { class: 'grid-4' }, fields.amount_usd.el, fields.period.el, fields.expires_at.el, fields.key_expires_at.el),
    h('div', { class: 'form-actions form-actions-right' }, status, submit),
    errorSlot);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorSlot);
    const errors = Object.fromEntries(Object.keys(fields).map((name) => [name, check(name)]));
    if (showErrors(fields, errors) > 0) {
      status.textContent = 'Some fields need attention.';
      return;
    }
    const body = { name: value('name'), role: value('role') };
    const limits = {};
    if (value('requests_per_minute')) limits.requests_per_minute = Number(value('requests_per_minute'));
    if (value('tokens_per_minute')) limits.tokens_per_minute = Number(value('tokens_per_minute'));
    if (Object.keys(limits).length) body.limits = limits;
    if (value('key_expires_at')) body.expires_at = new Date(value('key_expires_at')).toISOString();
    if (value('amount_usd')) {
      body.budget = { amount_usd: Number(value('amount_usd')), period: value('period') };
      if (value('expires_at')) body.budget.expires_at = new Date(`${value('expires_at')}T23:59:59`).toISOString();
    }
    submit.disabled = true;
    status.textContent = 'Creating…';
    try {
      const created = await api('/v2/api-keys', { method: 'POST', body });
      status.textContent = '';
      form.reset();
      fields.role.control.value = 'router';
      fields.period.control.value = 'month';
      onCreated(created);
    } catch (error) {
      status.textContent = '';
      const param = error.param === 'expires_at' ? 'key_expires_at' : error.param;
      const item = param ? fields[param] ?? fields[String(param).split('.').pop()] : null;
      if (item) {
        item.setError(error.message);
        item.control.focus();
      } else {
        replace(errorSlot, notice('error', `The key was not created. ${error.message}`));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function secretPanel(created, onDone) {
  const secretInput = h('input', { class: 'input input-mono', readonly: true, id: 'new-key-secret', value: created.key, 'aria-label': `Secret of key ${created.name}` });
  secretInput.addEventListener('focus', () => secretInput.select());
  const done = h('button', { type: 'button', class: 'button' }, 'I have stored it');
  done.addEventListener('click', onDone);
  return h('section', { class: 'secret-panel', 'aria-labelledby': 'secret-title' },
    h('h2', { id: 'secret-title', tabindex: '-1' }, `Copy the key “${created.name}” now`),
    h('p', null, 'This is the only time relaygate shows it. Only its prefix is stored in readable form.'),
    h('div', { class: 'input-group' }, secretInput,
      copyButton(() => created.key, { label: 'Copy key', describedBy: 'new-key-secret', className: 'button button-primary' })),
    h('div', { class: 'secret-actions' }, done));
}

async function revoke(key, reload, errorSlot, navigate) {
  const own = isSignedInKey(key);
  const confirmed = await confirmDialog({
    title: `Revoke ${key.name}?`,
    message: [h('p', null, 'Every call made with ', h('code', null, `${key.prefix}…`), ' is refused from now on. This cannot be undone.'),
      own ? h('p', { class: 'strong' }, 'This is the key you are signed in with: you will be signed out.') : null],
    confirmLabel: 'Revoke key',
    danger: true,
  });
  if (!confirmed) return;
  replace(errorSlot);
  try {
    await send(`/v2/api-keys/${encodeURIComponent(key.id)}`, { method: 'DELETE' });
    if (own) {
      signOut();
      setFlash('info', 'You revoked the key you were signed in with. Sign in with another admin key.');
      navigate('/sign-in');
      return;
    }
    replace(errorSlot, notice('success', `${key.name} was revoked. Calls with it are refused.`));
    await reload();
  } catch (error) {
    replace(errorSlot, notice('error', `The key was not revoked. ${error.message}`));
  }
}

function keyRow(key, onRevoke, onEdit) {
  const revokeButton = key.revoked ? null
    : h('button', { type: 'button', class: 'button button-small button-danger-quiet', 'aria-label': `Revoke ${key.name}` }, 'Revoke');
  revokeButton?.addEventListener('click', () => onRevoke(key));
  const editButton = key.revoked ? null
    : h('button', { type: 'button', class: 'button button-small', 'aria-label': `Edit ${key.name}` }, 'Edit');
  editButton?.addEventListener('click', () => onEdit(key, editButton));
  return h('tr', { class: key.revoked ? 'row-muted' : null, dataset: { keyId: key.id } },
    h('td', null, h('span', { class: 'strong' }, key.name), isSignedInKey(key) ? h('span', { class: 'muted small' }, ' (you)') : null),
    h('td', null, statusCell(key)),
    h('td', null, key.role === 'admin' ? badge('Admin', 'info') : badge('Router', 'neutral')),
    h('td', null, h('code', null, `${key.prefix}…`)),
    h('td', { class: 'nowrap', title: dateTime(key.created) }, shortDate(key.created)),
    h('td', { title: key.last_used_at ? dateTime(key.last_used_at) : undefined }, key.last_used_at ? relativeTime(key.last_used_at) : 'Never'),
    h('td', null, limitsCell(key)),
    h('td', null, budgetBlock(key.budget, key.refusals)),
    h('td', { class: 'actions-cell' }, editButton || revokeButton ? h('div', { class: 'row-actions' }, editButton, revokeButton) : DASH));
}

const COLUMNS = ['Name', 'Status', 'Role', 'Key', 'Created', 'Last used', 'Limits', 'Budget', 'Actions'];

export async function render({ main, signal, navigate }) {
  const secretSlot = h('div', { class: 'secret-slot' });
  const errorSlot = h('div', { class: 'error-slot' });
  const tableSlot = h('div', { class: 'table-wrap table-reserve' });
  const showRevoked = h('input', { type: 'checkbox', id: 'show-revoked' });
  let keys = [];

  const draw = () => {
    const shown = showRevoked.checked ? keys : keys.filter((key) => !key.revoked);
    if (keys.length === 0) {
      replace(tableSlot, emptyState('No keys yet', 'Create a router key for each application that calls the router.'));
      return;
    }
    replace(tableSlot, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'API keys of this workspace'),
      h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, shown.length ? shown.map((key) => keyRow(key, (k) => revoke(k, reload, errorSlot, navigate), edit))
        : h('tr', null, h('td', { colspan: String(COLUMNS.length), class: 'table-empty' }, 'Every key is revoked. Tick “Show revoked keys” to see them.')))));
  };

  async function reload() {
    try {
      const list = await api('/v2/api-keys', { signal });
      keys = (list.data ?? []).sort((a, b) => Number(a.revoked) - Number(b.revoked) || String(b.created).localeCompare(String(a.created)));
      draw();
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(tableSlot, notice('error', `The keys could not be loaded. ${error.message}`));
    }
  }

  const onCreated = (created) => {
    replace(secretSlot, secretPanel(created, () => {
      replace(secretSlot);
      document.getElementById('create-key-title')?.focus();
    }));
    secretSlot.querySelector('h2').focus();
    reload();
  };

  let models = null;
  async function edit(key, opener) {
    models ??= await api('/v2/models', { signal }).then((r) => (r.data ?? []).map((m) => m.router_id)).catch(() => []);
    const saved = await editKeyDialog(key, models, opener);
    if (!saved) return;
    replace(errorSlot, notice('success', `Changes to ${saved.name} were saved.`));
    await reload();
  }

  showRevoked.addEventListener('change', draw);
  main.append(
    pageHeader('API keys', { subtitle: 'Router keys call /v3/router; admin keys manage this workspace and sign in to the Studio.' }),
    secretSlot,
    createForm(onCreated),
    h('div', { class: 'section-header' },
      h('h2', null, 'Keys'),
      h('div', { class: 'checkbox-inline' }, showRevoked, h('label', { for: 'show-revoked' }, 'Show revoked keys'))),
    errorSlot,
    tableSlot);
  replace(tableSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading keys…'));
  await reload();
}
