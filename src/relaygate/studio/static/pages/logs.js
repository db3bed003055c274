// Logs: every router call of the workspace, newest first (GET /v2/logs), filtered, a page at a
// time ("Load more" follows the keyset cursor), live (GET /v2/logs/stream) when asked; and the
// workspace's body logging with its retention (GET/PATCH /v2/workspace/logging).

import { api, send } from '../api.js';
import { h, replace } from '../dom.js';
import { clock, dateTime, dayLabel, integer, milliseconds, money } from '../format.js';
import { field, selectInput, showErrors, textInput, toggle } from '../forms.js';
import { filterQuery, keyText, logPath, modelText, statusBadge } from '../log-view.js';
import { readEvents } from '../sse.js';
import { announce, emptyState, notice, pageHeader } from '../ui.js';

const PERIODS = [['1h', 'Last hour'], ['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['all', 'All time']];
const PERIOD_MS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
const STATUSES = [['ok', 'Answered (below 400)'], ['error', 'Errors'], ['2xx', '2xx'], ['4xx', '4xx'], ['429', '429 (refused)'], ['5xx', '5xx']];
const PAGE = 50;
const LIVE_MAX = 500; // rows kept while live; older ones go (Load more is off while live)
const COLUMNS = ['Time', 'Status', 'Model', 'Key', 'Latency', 'Tokens', 'Cost', 'Request ID'];
const NUMERIC = new Set(['Latency', 'Tokens', 'Cost']);

// Each filter keeps a line for its own error (a 400 from GET /v2/logs names the parameter).
const filterErrors = new Map();

function control(label, input, param) {
  const error = h('p', { class: 'field-error', id: `${input.id}-error` });
  input.setAttribute('aria-describedby', error.id);
  filterErrors.set(param, { input, error });
  return h('div', { class: 'toolbar-field' }, h('label', { for: input.id }, label), input, error);
}

function showFilterError(param, message) {
  for (const [name, { input, error }] of filterErrors) {
    const mine = name === param;
    error.textContent = mine ? message : '';
    if (mine) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
  const found = filterErrors.get(param);
  found?.input.focus();
  return Boolean(found);
}

function row(entry) {
  const cell = (label, content, className) => h('td', { 'data-label': label, class: className }, content);
  return h('tr', { 'data-request-id': entry.request_id },
    cell('Time', h('span', { title: dateTime(entry.created) }, `${dayLabel(entry.created)} ${clock(entry.created)}`), 'nowrap'),
    cell('Status', statusBadge(entry)),
    cell('Model', modelText(entry)),
    cell('Key', keyText(entry)),
    cell('Latency', milliseconds(entry.latency_ms), 'num'),
    cell('Tokens', integer(entry.tokens?.total), 'num'),
    cell('Cost', money(entry.cost), 'num'),
    cell('Request ID', h('a', { href: logPath(entry.request_id), class: 'log-id' }, entry.request_id)));
}

function table(entries) {
  return h('table', { class: 'table table-compact log-table' },
    h('caption', { class: 'visually-hidden' }, 'Router calls, newest first'),
    h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col', class: NUMERIC.has(c) ? 'num' : null }, c)))),
    h('tbody', null, entries.map(row)));
}

/** The workspace's body logging: a switch and a retention, saved together. */
function loggingCard(signal) {
  const switchField = toggle({
    name: 'log_bodies', label: 'Keep request and response bodies',
    hint: 'For this workspace’s calls from now on. Secrets (bearer tokens, sk-… keys) are redacted; bodies are cut at the server’s limit.',
  });
  const retention = field({
    name: 'retention_days', label: 'Keep bodies for (days)', required: true,
    control: textInput({ type: 'number', inputmode: 'numeric' }),
    hint: 'Older bodies are deleted; the call’s numbers stay.',
  });
  retention.control.min = '1';
  retention.control.max = '3650';
  retention.control.step = '1';
  const save = h('button', { type: 'submit', class: 'button' }, 'Save');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'log-settings', novalidate: true, 'aria-labelledby': 'log-settings-title' },
    switchField.el, retention.el, h('div', { class: 'form-actions' }, save, status));
  const card = h('section', { class: 'card', 'aria-labelledby': 'log-settings-title' },
    h('h2', { id: 'log-settings-title' }, 'Body logging'), form);

  const show = (setting) => {
    switchField.control.checked = Boolean(setting.log_bodies);
    retention.control.value = String(setting.retention_days ?? 30);
  };
  api('/v2/workspace/logging', { signal }).then(show).catch((error) => {
    if (error.name !== 'AbortError') status.textContent = `The setting could not be loaded. ${error.message}`;
  });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const days = Number(retention.control.value);
    if (!Number.isInteger(days) || days < 1 || days > 3650) {
      retention.setError('Enter a whole number of days from 1 to 3650.');
      retention.control.focus();
      return;
    }
    retention.setError('');
    save.disabled = true;
    status.textContent = 'Saving…';
    try {
      const setting = await api('/v2/workspace/logging', {
        method: 'PATCH', body: { log_bodies: switchField.control.checked, retention_days: days }, signal,
      });
      show(setting);
      status.textContent = setting.log_bodies
        ? `Bodies are kept for ${setting.retention_days} days.`
        : 'Bodies are not kept for new calls.';
    } catch (error) {
      if (error.name === 'AbortError') return;
      status.textContent = '';
      if (error.param === 'retention_days') showErrors({ retention_days: retention }, { retention_days: error.message });
      else status.textContent = `Not saved. ${error.message}`;
    } finally {
      save.disabled = false;
    }
  });
  return card;
}

export async function render({ main, query: params, signal }) {
  main.append(pageHeader('Logs', { subtitle: 'Every call through the router: who made it, which model answered, how long it took and what it cost.' }));

  const period = selectInput(PERIODS, { value: params.get('period') ?? '24h' });
  period.id = 'logs-period';
  const model = selectInput([], { placeholder: 'All models' });
  model.id = 'logs-model';
  const key = selectInput([], { placeholder: 'All keys' });
  key.id = 'logs-key';
  const status = selectInput(STATUSES, { placeholder: 'Any status', value: params.get('status') ?? '' });
  status.id = 'logs-status';
  const identity = textInput({ placeholder: 'Any identity', value: params.get('identity') ?? '' });
  identity.id = 'logs-identity';
  const deployment = textInput({ placeholder: 'Any deployment', value: params.get('deployment') ?? '' });
  deployment.id = 'logs-deployment';
  const requestId = textInput({ placeholder: 'req_…', value: params.get('request_id') ?? '' });
  requestId.id = 'logs-request-id';
  const apply = h('button', { type: 'submit', class: 'button' }, 'Apply');
  const live = toggle({ name: 'live', label: 'Live', hint: 'New calls appear as they are recorded.' });

  const filters = h('form', { class: 'toolbar toolbar-wrap', role: 'search', 'aria-label': 'Log filters', novalidate: true },
    control('Period', period, 'from'), control('Model', model, 'model'), control('API key', key, 'key'),
    control('Status', status, 'status'), control('Identity', identity, 'identity'),
    control('Deployment', deployment, 'deployment'), control('Request ID', requestId, 'request_id'),
    h('div', { class: 'toolbar-field toolbar-button' }, apply));
  const summary = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const filterError = h('div', { class: 'error-slot' });
  const tableSlot = h('div', { class: 'table-wrap table-reserve log-wrap' });
  const more = h('button', { type: 'button', class: 'button', hidden: true }, 'Load more');
  main.append(loggingCard(signal),
    h('section', { 'aria-labelledby': 'calls-title', class: 'log-calls' },
      h('div', { class: 'section-header' }, h('h2', { id: 'calls-title' }, 'Calls'), live.el),
      filters, filterError, summary, tableSlot, h('div', { class: 'load-more' }, more)));

  const [models, keys] = await Promise.all([
    api('/v2/models', { signal }).then((r) => r.data ?? []).catch(() => []),
    api('/v2/api-keys', { signal }).then((r) => r.data ?? []).catch(() => []),
  ]);
  if (signal.aborted) return undefined;
  for (const m of models) model.append(h('option', { value: m.router_id }, m.router_id));
  for (const k of keys) key.append(h('option', { value: k.id }, `${k.name} (${k.prefix}…)`));
  model.value = params.get('model') ?? '';
  key.value = params.get('key') ?? '';

  let entries = [];
  let cursor = null;
  let stream = null; // the live tail's AbortController

  const values = () => {
    const chosen = {
      model: model.value, key: key.value, status: status.value, identity: identity.value.trim(),
      deployment: deployment.value.trim(), request_id: requestId.value.trim(),
    };
    if (PERIOD_MS[period.value]) chosen.from = new Date(Date.now() - PERIOD_MS[period.value]).toISOString();
    return chosen;
  };

  const draw = () => {
    replace(tableSlot, entries.length ? table(entries)
      : emptyState('No calls', 'No call matches these filters yet. Calls through the router appear here within seconds.'));
  };

  async function load(next = false) {
    replace(filterError);
    showFilterError(null, '');
    summary.textContent = next ? 'Loading more…' : 'Loading calls…';
    const search = filterQuery({ ...values(), limit: PAGE, cursor: next ? cursor : null });
    try {
      const page = await api(`/v2/logs?${search}`, { signal });
      entries = next ? [...entries, ...(page.data ?? [])] : (page.data ?? []);
      cursor = page.next_cursor ?? null;
      more.hidden = !page.has_more || Boolean(stream);
      summary.textContent = `${integer(entries.length)} ${entries.length === 1 ? 'call' : 'calls'} shown${page.has_more ? ', more to load' : ''}.`;
      draw();
    } catch (error) {
      if (error.name === 'AbortError') return;
      summary.textContent = '';
      if (!showFilterError(error.param, error.message)) replace(filterError, notice('error', `The log could not be loaded. ${error.message}`));
    }
  }

  async function follow() {
    const controller = new AbortController();
    stream = controller;
    signal.addEventListener('abort', () => controller.abort(), { once: true });
    more.hidden = true;
    const search = filterQuery({ ...values(), from: null });
    try {
      const response = await send(`/v2/logs/stream?${search}`, { accept: 'text/event-stream', signal: controller.signal });
      announce('Live: new calls appear at the top.');
      for await (const event of readEvents(response)) {
        if (event.event !== 'entry') continue;
        entries = [JSON.parse(event.data), ...entries].slice(0, LIVE_MAX);
        draw();
      }
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(filterError, notice('error', `Live updates stopped. ${error.message}`));
      live.control.checked = false;
    } finally {
      if (stream === controller) stream = null;
    }
  }

  function stopFollowing() {
    stream?.abort();
    stream = null;
    more.hidden = !cursor;
  }

  const restart = async () => {
    const following = live.control.checked;
    stopFollowing();
    await load();
    if (following) follow();
  };
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    restart();
  });
  for (const input of [period, model, key, status]) input.addEventListener('change', restart);
  live.control.addEventListener('change', () => {
    if (live.control.checked) follow();
    else {
      stopFollowing();
      announce('Live updates off.');
    }
  });
  more.addEventListener('click', () => load(true));
  await load();
  return () => stopFollowing();
}
