// Audit log: who (which admin key) created, changed or deleted what in this workspace, newest
// first (GET /v2/audit), filtered, a page at a time; an entry opens into its before/after diff.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, integer, relativeTime } from '../format.js';
import { selectInput, textInput } from '../forms.js';
import { badge, emptyState, notice, pageHeader } from '../ui.js';

const RESOURCES = [
  ['model', 'Models'], ['api_key', 'API keys'], ['budget', 'Budgets'], ['deployment', 'Deployments'],
  ['dataset', 'Datasets'], ['datapoint', 'Datapoints'], ['evaluator', 'Evaluators'], ['experiment', 'Experiments'],
  ['search_backend', 'Web search backend'], ['workspace_setting', 'Workspace settings'], ['alert_rule', 'Alert rules'],
];
const RESOURCE_WORDS = Object.fromEntries(RESOURCES.map(([value, label]) => [value, label.replace(/s$/, '')]));
const ACTIONS = [['create', 'Created'], ['update', 'Changed'], ['delete', 'Deleted'], ['set', 'Set'], ['validate', 'Validated'],
  ['rollback', 'Rolled back'], ['start', 'Started'], ['pause', 'Paused'], ['cancel', 'Cancelled'], ['resume', 'Resumed']];
const ACTION_WORDS = Object.fromEntries(ACTIONS);
const ACTION_TONES = { create: 'success', delete: 'danger', update: 'info', set: 'info' };
const PAGE = 50;

/** Every leaf of a JSON value as `path -> text` (`limits.requests_per_minute`, `tags[0]`). */
export function flatten(value, prefix = '', into = new Map()) {
  if (value !== null && typeof value === 'object') {
    const entries = Array.isArray(value) ? value.map((item, i) => [`${prefix}[${i}]`, item])
      : Object.entries(value).map(([key, item]) => [prefix ? `${prefix}.${key}` : key, item]);
    if (entries.length === 0) into.set(prefix, Array.isArray(value) ? '[]' : '{}');
    for (const [path, item] of entries) flatten(item, path, into);
  } else if (prefix) {
    into.set(prefix, JSON.stringify(value));
  }
  return into;
}

/** The fields of before and after, each with whether it changed. */
export function fieldChanges(before, after) {
  const old = flatten(before ?? {});
  const now = flatten(after ?? {});
  const paths = [...new Set([...old.keys(), ...now.keys()])].sort();
  return paths.map((path) => ({ path, before: old.get(path), after: now.get(path), changed: old.get(path) !== now.get(path) }));
}

function actorText(entry) {
  const actor = entry.actor ?? {};
  if (!actor.key_id) return DASH;
  return h('div', { class: 'cell-stack' },
    h('span', null, actor.name ?? actor.key_id),
    actor.prefix ? h('code', { class: 'muted small' }, `${actor.prefix}…`) : null);
}

function diffView(entry, showAll) {
  const rows = fieldChanges(entry.before, entry.after).filter((row) => showAll || row.changed);
  const caption = `Fields of ${RESOURCE_WORDS[entry.resource_type] ?? entry.resource_type} ${entry.resource_id ?? ''} before and after`;
  if (entry.before === null && entry.after === null) {
    return notice('info', 'relaygate keeps no snapshot of this kind of change; the entry says who made it, when and where.');
  }
  if (rows.length === 0) return notice('info', 'Nothing visible changed.');
  return h('div', { class: 'table-wrap' }, h('table', { class: 'table table-compact audit-diff' },
    h('caption', { class: 'visually-hidden' }, caption),
    h('thead', null, h('tr', null, ['Field', 'Before', 'After'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows.map((row) => h('tr', { class: row.changed ? 'audit-changed' : null },
      h('th', { scope: 'row' }, h('code', null, row.path)),
      h('td', { class: row.changed && row.before !== undefined ? 'audit-before' : null }, row.before === undefined ? h('span', { class: 'muted' }, 'absent') : h('code', null, row.before)),
      h('td', { class: row.changed && row.after !== undefined ? 'audit-after' : null }, row.after === undefined ? h('span', { class: 'muted' }, 'absent') : h('code', null, row.after)))))));
}

function detail(entry) {
  const all = h('input', { type: 'checkbox', id: 'audit-all-fields' });
  const slot = h('div', null, diffView(entry, false));
  all.addEventListener('change', () => replace(slot, diffView(entry, all.checked)));
  const what = `${ACTION_WORDS[entry.action] ?? entry.action} ${RESOURCE_WORDS[entry.resource_type] ?? entry.resource_type}`;
  return h('section', { class: 'card audit-detail', 'aria-labelledby': 'audit-detail-title' },
    h('h2', { id: 'audit-detail-title', tabindex: '-1' }, `${what} ${entry.resource_id ?? ''}`.trim()),
    h('dl', { class: 'audit-facts' },
      h('dt', null, 'When'), h('dd', null, dateTime(entry.created)),
      h('dt', null, 'Who'), h('dd', null, entry.actor?.name ?? DASH, entry.actor?.key_id ? h('span', { class: 'muted' }, ` (key ${entry.actor.key_id})`) : null),
      h('dt', null, 'Request'), h('dd', null, h('code', null, `${entry.method} ${entry.path}`)),
      h('dt', null, 'Request ID'), h('dd', null, h('code', null, entry.request_id)),
      h('dt', null, 'Client address'), h('dd', null, entry.client_address ?? DASH)),
    h('div', { class: 'checkbox-inline' }, all, h('label', { for: 'audit-all-fields' }, 'Show unchanged fields')),
    slot);
}

function table(entries, open) {
  const columns = ['Time', 'Who', 'Action', 'Resource', 'Changes'];
  return h('table', { class: 'table table-compact' },
    h('caption', { class: 'visually-hidden' }, 'Changes made in this workspace, newest first'),
    h('thead', null, h('tr', null, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, entries.map((entry) => {
      const view = h('button', { type: 'button', class: 'button button-small', 'aria-label': `View changes of ${entry.action} ${entry.resource_type} ${entry.resource_id ?? ''}`.trim() }, 'View');
      view.addEventListener('click', () => open(entry));
      return h('tr', { dataset: { entryId: entry.id } },
        h('td', { class: 'nowrap', title: dateTime(entry.created) }, relativeTime(entry.created)),
        h('td', null, actorText(entry)),
        h('td', null, badge(ACTION_WORDS[entry.action] ?? entry.action, ACTION_TONES[entry.action] ?? 'neutral')),
        h('td', null, h('div', { class: 'cell-stack' },
          h('span', null, RESOURCE_WORDS[entry.resource_type] ?? entry.resource_type),
          entry.resource_id ? h('code', { class: 'muted small' }, entry.resource_id) : null)),
        h('td', null, view));
    })));
}

function control(label, input, param, errors) {
  const error = h('p', { class: 'field-error', id: `${input.id}-error` });
  input.setAttribute('aria-describedby', error.id);
  errors.set(param, { input, error });
  return h('div', { class: 'toolbar-field' }, h('label', { for: input.id }, label), input, error);
}

export async function render({ main, signal }) {
  main.append(pageHeader('Audit log', { subtitle: 'Who created, changed or deleted what in this workspace, with the values before and after. Secrets are never recorded.' }));
  const resource = selectInput(RESOURCES, { placeholder: 'Any resource' });
  resource.id = 'audit-resource';
  const action = selectInput(ACTIONS, { placeholder: 'Any action' });
  action.id = 'audit-action';
  const actor = selectInput([], { placeholder: 'Any key' });
  actor.id = 'audit-actor';
  const resourceId = textInput({ placeholder: 'Any id' });
  resourceId.id = 'audit-resource-id';
  const from = textInput({ type: 'date' });
  from.id = 'audit-from';
  const to = textInput({ type: 'date' });
  to.id = 'audit-to';
  const errors = new Map();
  const apply = h('button', { type: 'submit', class: 'button' }, 'Apply');
  const filters = h('form', { class: 'toolbar toolbar-wrap', role: 'search', 'aria-label': 'Audit log filters', novalidate: true },
    control('Resource', resource, 'resource_type', errors), control('Action', action, 'action', errors),
    control('Who', actor, 'actor', errors), control('Resource ID', resourceId, 'resource_id', errors),
    control('From', from, 'from', errors), control('To', to, 'to', errors),
    h('div', { class: 'toolbar-field toolbar-button' }, apply));
  const summary = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const errorSlot = h('div', { class: 'error-slot' });
  const tableSlot = h('div', { class: 'table-wrap table-reserve' });
  const detailSlot = h('div');
  const more = h('button', { type: 'button', class: 'button', hidden: true }, 'Load more');
  main.append(filters, errorSlot, summary, tableSlot, h('div', { class: 'load-more' }, more), detailSlot);

  const keys = await api('/v2/api-keys', { signal }).then((r) => r.data ?? []).catch(() => []);
  if (signal.aborted) return;
  for (const key of keys) actor.append(h('option', { value: key.id }, `${key.name} (${key.prefix}…)`));

  let entries = [];
  let cursor = null;

  const showError = (param, message) => {
    for (const [name, { input, error }] of errors) {
      const mine = name === param;
      error.textContent = mine ? message : '';
      if (mine) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }
    errors.get(param)?.input.focus();
    return errors.has(param);
  };

  const open = (entry) => {
    replace(detailSlot, detail(entry));
    detailSlot.querySelector('h2').focus();
  };

  async function load(next = false) {
    replace(errorSlot);
    showError(null, '');
    if (from.value && to.value && from.value > to.value) {
      showError('to', 'Choose a day on or after the From day.');
      return;
    }
    const params = new URLSearchParams({ limit: String(PAGE) });
    const chosen = { resource_type: resource.value, action: action.value, actor: actor.value, resource_id: resourceId.value.trim() };
    for (const [name, value] of Object.entries(chosen)) if (value) params.set(name, value);
    if (from.value) params.set('from', new Date(`${from.value}T00:00:00`).toISOString());
    if (to.value) params.set('to', new Date(new Date(`${to.value}T00:00:00`).getTime() + 86_400_000).toISOString());
    if (next && cursor) params.set('after', cursor);
    summary.textContent = next ? 'Loading more…' : 'Loading changes…';
    try {
      const page = await api(`/v2/audit?${params}`, { signal });
      entries = next ? [...entries, ...(page.data ?? [])] : (page.data ?? []);
      cursor = page.next_cursor ?? null;
      more.hidden = !page.has_more;
      summary.textContent = `${integer(entries.length)} ${entries.length === 1 ? 'change' : 'changes'} shown${page.has_more ? ', more to load' : ''}.`;
      replace(tableSlot, entries.length ? table(entries, open)
        : emptyState('No changes', 'No change matches these filters. Changes made with admin keys through the API or the Studio appear here.'));
      if (!next) replace(detailSlot);
    } catch (error) {
      if (error.name === 'AbortError') return;
      summary.textContent = '';
      if (!showError(error.param, error.message)) replace(errorSlot, notice('error', `The audit log could not be loaded. ${error.message}`));
    }
  }

  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  more.addEventListener('click', () => load(true));
  replace(tableSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading changes…'));
  await load();
}
