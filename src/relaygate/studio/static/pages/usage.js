// Usage: requests, tokens, cost and latency over time, grouped and filtered like GET /v2/usage,
// and the most recent calls from GET /v2/usage/events.

import { api, query } from '../api.js';
import { timeChart } from '../charts.js';
import { h, replace } from '../dom.js';
import { DASH, axisTime, clock, compact, dateTime, dayLabel, integer, milliseconds, money, plural } from '../format.js';
import { selectInput, textInput } from '../forms.js';
import { badge, emptyState, notice, pageHeader } from '../ui.js';
import { bucketAxis, groupSeries, rankGroups } from '../usage-data.js';

const RANGES = [['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom range']];
const RANGE_MS = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
const GROUPS = [['model', 'Model'], ['api_key', 'API key'], ['identity', 'Identity'], ['endpoint', 'Endpoint'], ['status', 'Status']];
const INTERVALS = [['hour', 'Hour'], ['day', 'Day']];

function control(label, input, className = '') {
  return h('div', { class: ['toolbar-field', className] }, h('label', { for: input.id }, label), input);
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function statusBadge(status) {
  const code = Number(status);
  if (Number.isFinite(code)) {
    if (code < 400) return badge(String(code), 'success');
    return badge(String(code), code >= 500 ? 'danger' : 'warning');
  }
  const text = String(status ?? DASH);
  return badge(text, /^(ok|success|succeeded)$/i.test(text) ? 'success' : 'danger');
}

function totalsCards(totals) {
  const t = totals ?? {};
  const errorRate = t.requests ? `${((t.errors ?? 0) / t.requests * 100).toFixed(1)}% of calls` : 'no calls';
  const card = (label, value, detail) => h('div', { class: 'stat' },
    h('p', { class: 'stat-label' }, label), h('p', { class: 'stat-value' }, value), h('p', { class: 'stat-detail' }, detail));
  return h('div', { class: 'stats' },
    card('Requests', integer(t.requests ?? 0), `${plural(t.errors ?? 0, 'error')}, ${errorRate}`),
    card('Tokens', compact(t.total_tokens ?? 0), `${compact(t.prompt_tokens ?? 0)} in · ${compact(t.completion_tokens ?? 0)} out`),
    card('Cost', money(t.cost ?? 0), t.searches
      ? `${money(t.search_cost ?? 0)} of it for ${plural(t.searches, 'web search', 'web searches')}`
      : 'From the models’ prices'),
    card('Average latency', milliseconds(t.latency_ms_avg), 'End to end, as the client saw it'));
}

function eventsTable(events, keyName) {
  return h('table', { class: 'table table-compact' },
    h('caption', { class: 'visually-hidden' }, 'Recent calls'),
    h('thead', null, h('tr', null, ['Time', 'Model', 'Endpoint', 'Status', 'Stream', 'Tokens in / out', 'Cost', 'Latency', 'Key']
      .map((c) => h('th', { scope: 'col', class: ['Tokens in / out', 'Cost', 'Latency'].includes(c) ? 'num' : null }, c)))),
    h('tbody', null, events.map((event) => h('tr', null,
      h('td', { title: dateTime(event.created) }, `${dayLabel(event.created)} ${clock(event.created)}`),
      h('td', null, h('code', null, event.router_model ?? DASH)),
      h('td', null, event.endpoint ?? DASH),
      h('td', null, statusBadge(event.status)),
      h('td', null, event.stream ? 'Yes' : 'No'),
      h('td', { class: 'num' }, `${integer(event.prompt_tokens)} / ${integer(event.completion_tokens)}`),
      h('td', { class: 'num' }, money(event.cost)),
      h('td', { class: 'num' }, milliseconds(event.latency_ms)),
      h('td', null, keyName(event.api_key_id))))));
}

export async function render({ main, query: params, signal }) {
  main.append(pageHeader('Usage', { subtitle: 'What the router served: calls, tokens, cost and latency over time.' }));

  const range = selectInput(RANGES, { value: params.get('range') ?? '24h' });
  range.id = 'usage-range';
  const now = new Date();
  const fromInput = textInput({ type: 'datetime-local', value: localInputValue(new Date(now - RANGE_MS['7d'])) });
  fromInput.id = 'usage-from';
  const toInput = textInput({ type: 'datetime-local', value: localInputValue(now) });
  toInput.id = 'usage-to';
  const interval = selectInput(INTERVALS, { value: params.get('interval') ?? 'hour' });
  interval.id = 'usage-interval';
  const groupBy = selectInput(GROUPS, { value: params.get('group_by') ?? 'model' });
  groupBy.id = 'usage-group';
  const modelFilter = selectInput([], { placeholder: 'All models' });
  modelFilter.id = 'usage-model';
  const keyFilter = selectInput([], { placeholder: 'All keys' });
  keyFilter.id = 'usage-key';
  const identityFilter = textInput({ placeholder: 'Any identity' });
  identityFilter.id = 'usage-identity';
  const refresh = h('button', { type: 'submit', class: 'button' }, 'Refresh');
  const customFields = [control('From', fromInput, 'custom-range'), control('To', toInput, 'custom-range')];

  const filters = h('form', { class: 'toolbar toolbar-wrap', role: 'search', 'aria-label': 'Usage filters', novalidate: true },
    control('Period', range), ...customFields, control('Interval', interval), control('Group by', groupBy),
    control('Model', modelFilter), control('API key', keyFilter), control('Identity', identityFilter),
    h('div', { class: 'toolbar-field toolbar-button' }, refresh));
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const totalsSlot = h('div', { class: 'totals-slot' }, totalsCards(null));
  const chartsSlot = h('div', { class: 'charts' });
  const eventsSlot = h('div', { class: 'table-wrap table-reserve' });
  const moreButton = h('button', { type: 'button', class: 'button', hidden: true }, 'Load more');
  main.append(filters, status, totalsSlot, chartsSlot,
    h('section', { 'aria-labelledby': 'recent-title', class: 'recent' },
      h('div', { class: 'section-header' }, h('h2', { id: 'recent-title' }, 'Recent calls')),
      eventsSlot, h('div', { class: 'load-more' }, moreButton)));

  const keyNames = new Map();
  const keyName = (id) => {
    if (!id) return DASH;
    const key = keyNames.get(id);
    return key ? `${key.name} (${key.prefix}…)` : id;
  };
  // Filters' choices; failures here only leave the lists short.
  const [models, keys] = await Promise.all([
    api('/v2/models', { signal }).then((r) => r.data ?? []).catch(() => []),
    api('/v2/api-keys', { signal }).then((r) => r.data ?? []).catch(() => []),
  ]);
  if (signal.aborted) return;
  for (const model of models) modelFilter.append(h('option', { value: model.router_id }, model.router_id));
  for (const key of keys) {
    keyNames.set(key.id, key);
    keyFilter.append(h('option', { value: key.id }, `${key.name} (${key.prefix}…)`));
  }

  const period = () => {
    if (range.value === 'custom') return { from: new Date(fromInput.value), to: new Date(toInput.value) };
    const to = new Date();
    return { from: new Date(to - RANGE_MS[range.value]), to };
  };

  const showCustom = () => { for (const el of customFields) el.hidden = range.value !== 'custom'; };
  showCustom();

  let events = [];
  let cursor = null;
  let eventFilters = {};

  async function loadEvents(more = false) {
    try {
      const search = query({ ...eventFilters, limit: 50, cursor: more ? cursor : null });
      const page = await api(`/v2/usage/events${search}`, { signal });
      events = more ? [...events, ...(page.data ?? [])] : (page.data ?? []);
      cursor = page.next_cursor ?? null;
      moreButton.hidden = !cursor;
      replace(eventsSlot, events.length ? eventsTable(events, keyName) : emptyState('No calls yet', 'Calls through the router appear here within seconds.'));
    } catch (error) {
      if (error.name === 'AbortError') return;
      replace(eventsSlot, notice('error', `Recent calls could not be loaded. ${error.message}`));
    }
  }

  function drawCharts(usage) {
    const rows = usage.series ?? [];
    const step = usage.interval ?? interval.value;
    const buckets = bucketAxis(usage.from ?? period().from, usage.to ?? period().to, step, rows);
    const groupOrder = rankGroups(rows);
    const group = usage.group_by ?? groupBy.value;
    const labelFor = (value) => {
      if (value === null || value === undefined || value === '') return '(none)';
      return group === 'api_key' ? keyName(value) : String(value);
    };
    const xLabel = (date) => (step === 'hour' && buckets.length > 30 ? dayLabel(date) : axisTime(date, step));
    const tooltipLabel = (date) => (step === 'hour' ? `${dayLabel(date)} ${axisTime(date, 'hour')}` : dayLabel(date));
    const total = (metric) => rows.reduce((sum, row) => sum + Number(row[metric] ?? 0), 0);
    const chart = (title, metric, kind, format, summary) => timeChart({
      title, kind, format, xLabel, tooltipLabel, buckets, summary,
      series: groupSeries(rows, buckets, metric, { groupOrder, labelFor }),
    });
    const per = step === 'hour' ? 'hour' : 'day';
    replace(chartsSlot,
      chart(`Requests per ${per}`, 'requests', 'bar', compact, `${integer(total('requests'))} requests in all.`),
      chart(`Tokens per ${per}`, 'total_tokens', 'bar', compact, `${integer(total('total_tokens'))} tokens in all.`),
      chart(`Cost per ${per}`, 'cost', 'bar', money, `${money(total('cost'))} in all.`),
      chart('Average latency', 'latency_ms_avg', 'line', milliseconds, `Average ${milliseconds(usage.totals?.latency_ms_avg)}.`));
  }

  async function load() {
    const { from, to } = period();
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
      status.textContent = 'Choose a start before the end of the period.';
      return;
    }
    status.textContent = 'Loading usage…';
    eventFilters = {
      from: from.toISOString(), to: to.toISOString(),
      model: modelFilter.value, api_key: keyFilter.value, identity: identityFilter.value.trim(),
    };
    const search = query({ ...eventFilters, interval: interval.value, group_by: groupBy.value });
    let usage;
    try {
      usage = await api(`/v2/usage${search}`, { signal });
    } catch (error) {
      if (error.name === 'AbortError') return;
      status.textContent = '';
      if (error.status === 404) {
        filters.hidden = true;
        replace(totalsSlot, emptyState('Usage is not available', 'This relaygate server does not serve usage analytics (GET /v2/usage answered 404).'));
        replace(chartsSlot);
        main.querySelector('.recent')?.remove();
        return;
      }
      replace(chartsSlot, notice('error', `Usage could not be loaded. ${error.message}`));
      return;
    }
    status.textContent = `Showing ${dateTime(from)} to ${dateTime(to)}, by ${interval.value}, grouped by ${GROUPS.find(([v]) => v === groupBy.value)?.[1].toLowerCase()}.`;
    replace(totalsSlot, totalsCards(usage.totals));
    drawCharts(usage);
    await loadEvents();
  }

  range.addEventListener('change', () => {
    showCustom();
    if (RANGE_MS[range.value] > 7 * 86_400_000) interval.value = 'day';
    load();
  });
  for (const input of [interval, groupBy, modelFilter, keyFilter]) input.addEventListener('change', load);
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  moreButton.addEventListener('click', () => loadEvents(true));
  replace(chartsSlot, ...['Requests', 'Tokens', 'Cost', 'Average latency'].map((t) => h('figure', { class: 'chart-figure chart-placeholder' },
    h('figcaption', { class: 'chart-title' }, t))));
  await load();
}
