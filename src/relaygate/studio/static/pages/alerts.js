// Alerts: rules on a budget's spend, a failing model and the error rate (GET/POST/PATCH/DELETE
// /v2/alerts/rules), each sent to a signed webhook (its secret shown once, at creation); a test
// delivery per rule; and the recent events with their delivery (GET /v2/alerts).

import { api, send } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, money, relativeTime } from '../format.js';
import { field, liveValidation, selectInput, showErrors, textInput } from '../forms.js';
import { badge, confirmDialog, copyButton, emptyState, notice, pageHeader } from '../ui.js';

const KINDS = [
  ['budget_threshold', 'Budget threshold'],
  ['model_failing', 'Model failing'],
  ['error_rate', 'Error rate'],
];
const KIND_WORDS = Object.fromEntries(KINDS);
// The condition's fields of each kind: [name, label, hint, {min, max, step, value}].
const NUMBERS = {
  budget_threshold: [['percent', 'Fire at (% of the budget)', 'When this period’s spend reaches it.', { min: 1, max: 1000, value: 80 }]],
  model_failing: [['failures', 'Failed calls in a row', 'Or when its circuit breaker opens.', { min: 1, max: 100, value: 3 }]],
  error_rate: [
    ['max_percent', 'Above (% of calls failed)', '5xx answers and calls with no answer.', { min: 0, max: 100, value: 10 }],
    ['window_minutes', 'Over the last (minutes)', 'The window the rate is measured on.', { min: 1, max: 1440, value: 5 }],
    ['min_calls', 'Only after (calls)', 'Fewer calls in the window never fire.', { min: 1, max: 100000, value: 10 }],
  ],
};
const PERIOD_WORDS = { day: 'daily', week: 'weekly', month: 'monthly', total: 'total' };
const STATE_TONES = { firing: 'danger', resolved: 'success' };
const DELIVERY_TONES = { delivered: 'success', pending: 'warning', failed: 'danger' };
const DELIVERY_WORDS = { delivered: 'Delivered', pending: 'Retrying', failed: 'Failed' };

function condition(rule, budgets) {
  if (rule.kind === 'budget_threshold') {
    const budget = budgets.find((b) => b.id === rule.budget_id);
    const what = budget ? `${budgetLabel(budget)}` : `budget ${rule.budget_id}`;
    return `Spend reaches ${rule.percent}% of ${what}`;
  }
  const model = rule.model ?? 'any model';
  if (rule.kind === 'model_failing') return `${model}: ${rule.failures} failed calls in a row, or its breaker opens`;
  return `${rule.model ?? 'Workspace'}: over ${rule.max_percent}% failed in ${rule.window_minutes} min (from ${rule.min_calls} calls)`;
}

function budgetLabel(budget) {
  const scope = budget.scope === 'workspace' ? 'the workspace' : `${budget.scope === 'api_key' ? 'key' : 'identity'} ${budget.subject_id}`;
  return `${money(budget.amount_usd)} ${PERIOD_WORDS[budget.period] ?? ''} budget of ${scope}`.replace(/\s+/g, ' ');
}

function ruleForm(context, onCreated) {
  const { budgets, models } = context;
  const kind = field({ name: 'kind', label: 'Kind', required: true, control: selectInput(KINDS, { value: 'budget_threshold' }), hint: 'What is watched.' });
  const fields = {
    name: field({ name: 'name', label: 'Name', required: true, control: textInput({ placeholder: 'Budget at 80%' }), hint: 'Shown in the events and the webhook.' }),
    kind,
    webhook_url: field({ name: 'webhook_url', label: 'Webhook URL', required: true, control: textInput({ type: 'url', placeholder: 'https://hooks.example.com/relaygate' }), hint: 'Receives each event as signed JSON.' }),
    budget_id: field({
      name: 'budget_id', label: 'Budget', required: true,
      control: selectInput(budgets.filter((b) => b.amount_usd !== null).map((b) => [b.id, budgetLabel(b)]), { placeholder: budgets.length ? 'Choose a budget' : 'No spend budget yet' }),
      hint: 'A workspace, key or identity budget.',
    }),
    model: field({ name: 'model', label: 'Model', control: selectInput(models.map((m) => [m.router_id, m.router_id]), { placeholder: 'Every model' }), hint: 'Leave as is to watch all.' }),
  };
  for (const specs of Object.values(NUMBERS)) {
    for (const [name, label, hint, { min, max, value }] of specs) {
      const input = textInput({ type: 'number', inputmode: 'decimal', value: String(value) });
      Object.assign(input, { min: String(min), max: String(max), step: 'any' });
      fields[name] = field({ name, label, required: true, control: input, hint });
    }
  }
  const kindFields = {
    budget_threshold: ['budget_id', 'percent'],
    model_failing: ['model', 'failures'],
    error_rate: ['model', 'max_percent', 'window_minutes', 'min_calls'],
  };
  const shown = () => kindFields[kind.control.value] ?? [];
  const conditionSlot = h('div', { class: 'grid-4' });
  const drawCondition = () => {
    replace(conditionSlot, shown().map((name) => fields[name].el));
    fields.model.setHint(kind.control.value === 'error_rate' ? 'Leave as is for the whole workspace.' : 'Leave as is to watch every model.');
  };
  kind.control.addEventListener('change', drawCondition);
  drawCondition();

  const value = (name) => fields[name].control.value.trim();
  const check = (name) => {
    if (!['name', 'kind', 'webhook_url', ...shown()].includes(name)) return '';
    const text = value(name);
    if (name === 'name') return text ? (text.length > 128 ? 'Use at most 128 characters.' : '') : 'Enter a name for the rule.';
    if (name === 'webhook_url') return /^https?:\/\/[^\s/]+/i.test(text) ? '' : 'Enter an http:// or https:// address.';
    if (name === 'budget_id') return text ? '' : 'Choose the budget to watch (create one on the API keys page or with /v2/budgets).';
    if (name === 'model') return '';
    const spec = NUMBERS[kind.control.value]?.find(([n]) => n === name);
    if (!spec) return '';
    const [, , , { min, max }] = spec;
    const n = Number(text);
    return text !== '' && Number.isFinite(n) && n >= min && n <= max ? '' : `Enter a number from ${min} to ${max}.`;
  };
  liveValidation(fields, check);

  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Create rule');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const errorSlot = h('div', { class: 'error-slot' });
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'create-rule-title' },
    h('h2', { id: 'create-rule-title', tabindex: '-1' }, 'Create a rule'),
    h('div', { class: 'grid-4' }, fields.name.el, fields.kind.el, h('div', { class: 'grid-span-2' }, fields.webhook_url.el)),
    conditionSlot,
    h('div', { class: 'form-actions' }, submit, status),
    errorSlot);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorSlot);
    const names = ['name', 'kind', 'webhook_url', ...shown()];
    const errors = Object.fromEntries(names.map((name) => [name, check(name)]));
    if (showErrors(Object.fromEntries(names.map((n) => [n, fields[n]])), errors) > 0) {
      status.textContent = 'Some fields need attention.';
      return;
    }
    const body = { name: value('name'), kind: value('kind'), webhook_url: value('webhook_url') };
    for (const name of shown()) {
      if (value(name) === '') continue;
      body[name] = name === 'budget_id' || name === 'model' ? value(name) : Number(value(name));
    }
    submit.disabled = true;
    status.textContent = 'Creating…';
    try {
      const created = await api('/v2/alerts/rules', { method: 'POST', body });
      status.textContent = '';
      fields.name.control.value = '';
      onCreated(created);
    } catch (error) {
      status.textContent = '';
      const item = error.param ? fields[error.param] : null;
      if (item && names.includes(error.param)) {
        item.setError(error.message);
        item.control.focus();
      } else {
        replace(errorSlot, notice('error', `The rule was not created. ${error.message}`));
      }
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function secretPanel(created, onDone) {
  const input = h('input', { class: 'input input-mono', readonly: true, id: 'new-rule-secret', value: created.secret, 'aria-label': `Signing secret of rule ${created.name}` });
  input.addEventListener('focus', () => input.select());
  const done = h('button', { type: 'button', class: 'button' }, 'I have stored it');
  done.addEventListener('click', onDone);
  return h('section', { class: 'secret-panel', 'aria-labelledby': 'rule-secret-title' },
    h('h2', { id: 'rule-secret-title', tabindex: '-1' }, `Copy the signing secret of “${created.name}” now`),
    h('p', null, 'Your receiver checks each delivery’s X-Relaygate-Signature with it (docs/alerts.md). relaygate shows it only this once.'),
    h('div', { class: 'input-group' }, input,
      copyButton(() => created.secret, { label: 'Copy secret', describedBy: 'new-rule-secret', className: 'button button-primary' })),
    h('div', { class: 'secret-actions' }, done));
}

function stateCell(rule) {
  if (!rule.enabled) return badge('Disabled', 'neutral');
  if (rule.firing.length) return h('div', { class: 'cell-stack' }, badge('Firing', 'danger'), h('span', { class: 'muted small' }, rule.firing.join(', ')));
  return badge('OK', 'success');
}

function rulesTable(rules, context, actions) {
  const columns = ['Name', 'Condition', 'Webhook', 'State', 'Actions'];
  const row = (rule) => {
    const toggleButton = h('button', { type: 'button', class: 'button button-small', 'aria-label': `${rule.enabled ? 'Disable' : 'Enable'} ${rule.name}` }, rule.enabled ? 'Disable' : 'Enable');
    toggleButton.addEventListener('click', () => actions.toggle(rule));
    const testButton = h('button', { type: 'button', class: 'button button-small', 'aria-label': `Send a test event for ${rule.name}` }, 'Test');
    testButton.addEventListener('click', () => actions.test(rule, testButton));
    const deleteButton = h('button', { type: 'button', class: 'button button-small button-danger-quiet', 'aria-label': `Delete ${rule.name}` }, 'Delete');
    deleteButton.addEventListener('click', () => actions.remove(rule));
    return h('tr', { dataset: { ruleId: rule.id } },
      h('td', null, h('div', { class: 'cell-stack' }, h('span', { class: 'strong' }, rule.name), h('span', { class: 'muted small' }, KIND_WORDS[rule.kind] ?? rule.kind))),
      h('td', null, condition(rule, context.budgets)),
      h('td', null, h('div', { class: 'cell-stack' }, h('code', { class: 'break-anywhere' }, rule.webhook_url), h('span', { class: 'muted small' }, `Secret ${rule.secret_hint}`))),
      h('td', null, stateCell(rule)),
      h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' }, testButton, toggleButton, deleteButton)));
  };
  return h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Alert rules of this workspace'),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rules.map(row)));
}

function deliveryCell(event) {
  const delivery = event.delivery;
  const last = delivery.log.at(-1);
  const detail = delivery.status === 'pending' && delivery.next_attempt_at
    ? `Attempt ${delivery.attempts + 1} ${relativeTime(delivery.next_attempt_at)}`
    : `${delivery.attempts} ${delivery.attempts === 1 ? 'attempt' : 'attempts'}`;
  return h('div', { class: 'cell-stack' },
    badge(DELIVERY_WORDS[delivery.status] ?? delivery.status, DELIVERY_TONES[delivery.status] ?? 'neutral'),
    h('span', { class: 'muted small' }, detail),
    last?.error ? h('span', { class: 'muted small' }, last.error) : null);
}

function valueText(event) {
  if (event.test) return 'Test delivery';
  if (event.value === null || event.value === undefined) return DASH;
  const unit = event.kind === 'model_failing' ? ' failed in a row' : '%';
  return `${event.value}${unit} (threshold ${event.threshold}${event.kind === 'model_failing' ? '' : '%'})`;
}

function eventsTable(events) {
  const columns = ['Time', 'Rule', 'State', 'Subject', 'Value', 'Delivery'];
  return h('table', { class: 'table table-compact' },
    h('caption', { class: 'visually-hidden' }, 'Alert events, newest first'),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, events.map((event) => h('tr', { dataset: { eventId: event.id } },
      h('td', { class: 'nowrap', title: dateTime(event.created) }, relativeTime(event.created)),
      h('td', null, event.rule_name),
      h('td', null, event.test ? badge('Test', 'info') : badge(event.state === 'firing' ? 'Firing' : 'Resolved', STATE_TONES[event.state] ?? 'neutral')),
      h('td', null, h('code', null, event.subject)),
      h('td', null, valueText(event)),
      h('td', null, deliveryCell(event))))));
}

export async function render({ main, signal }) {
  const secretSlot = h('div', { class: 'secret-slot' });
  const messageSlot = h('div', { class: 'error-slot' });
  const rulesSlot = h('div', { class: 'table-wrap table-reserve' });
  const eventsSlot = h('div', { class: 'table-wrap table-reserve' });
  const refresh = h('button', { type: 'button', class: 'button button-small' }, 'Refresh');
  main.append(pageHeader('Alerts', { subtitle: 'Rules on budgets, failing models and error rates, sent to your webhook once when they fire and once when they resolve.' }));

  const [budgets, models] = await Promise.all([
    api('/v2/budgets', { signal }).then((r) => r.data ?? []).catch(() => []),
    api('/v2/models', { signal }).then((r) => r.data ?? []).catch(() => []),
  ]);
  if (signal.aborted) return;
  const context = { budgets, models };

  async function loadRules() {
    try {
      const rules = (await api('/v2/alerts/rules', { signal })).data ?? [];
      replace(rulesSlot, rules.length ? rulesTable(rules, context, actions)
        : emptyState('No rules yet', 'Create a rule above: relaygate evaluates it in the background and posts to your webhook.'));
    } catch (error) {
      if (error.name !== 'AbortError') replace(rulesSlot, notice('error', `The rules could not be loaded. ${error.message}`));
    }
  }

  async function loadEvents() {
    try {
      const events = (await api('/v2/alerts?limit=50', { signal })).data ?? [];
      replace(eventsSlot, events.length ? eventsTable(events)
        : emptyState('No events yet', 'Firing, resolved and test events appear here with their delivery.'));
    } catch (error) {
      if (error.name !== 'AbortError') replace(eventsSlot, notice('error', `The events could not be loaded. ${error.message}`));
    }
  }

  const actions = {
    async toggle(rule) {
      replace(messageSlot);
      try {
        await api(`/v2/alerts/rules/${encodeURIComponent(rule.id)}`, { method: 'PATCH', body: { enabled: !rule.enabled } });
        replace(messageSlot, notice('success', `${rule.name} is ${rule.enabled ? 'disabled' : 'enabled'}.`));
        await loadRules();
      } catch (error) {
        replace(messageSlot, notice('error', `${rule.name} was not changed. ${error.message}`));
      }
    },
    async test(rule, button) {
      replace(messageSlot);
      button.disabled = true;
      try {
        const event = await api(`/v2/alerts/rules/${encodeURIComponent(rule.id)}/test`, { method: 'POST' });
        const last = event.delivery.log.at(-1);
        replace(messageSlot, event.delivery.status === 'delivered'
          ? notice('success', `A test event for ${rule.name} was delivered (HTTP ${last?.status}).`)
          : notice('error', `The test event for ${rule.name} was not delivered: ${last?.error ?? 'unknown error'}.`));
        await loadEvents();
      } catch (error) {
        replace(messageSlot, notice('error', `The test event was not sent. ${error.message}`));
      } finally {
        button.disabled = false;
      }
    },
    async remove(rule) {
      const confirmed = await confirmDialog({
        title: `Delete ${rule.name}?`,
        message: h('p', null, 'The rule stops being evaluated; its past events stay listed.'),
        confirmLabel: 'Delete rule',
        danger: true,
      });
      if (!confirmed) return;
      replace(messageSlot);
      try {
        await send(`/v2/alerts/rules/${encodeURIComponent(rule.id)}`, { method: 'DELETE' });
        replace(messageSlot, notice('success', `${rule.name} was deleted.`));
        await loadRules();
      } catch (error) {
        replace(messageSlot, notice('error', `${rule.name} was not deleted. ${error.message}`));
      }
    },
  };

  const onCreated = (created) => {
    replace(secretSlot, secretPanel(created, () => {
      replace(secretSlot);
      document.getElementById('create-rule-title')?.focus();
    }));
    secretSlot.querySelector('h2').focus();
    loadRules();
  };

  refresh.addEventListener('click', () => Promise.all([loadRules(), loadEvents()]));
  main.append(secretSlot, ruleForm(context, onCreated),
    h('div', { class: 'section-header' }, h('h2', null, 'Rules')),
    messageSlot, rulesSlot,
    h('div', { class: 'section-header' }, h('h2', null, 'Recent events'), refresh),
    eventsSlot);
  replace(rulesSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading rules…'));
  replace(eventsSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading events…'));
  await Promise.all([loadRules(), loadEvents()]);
}
