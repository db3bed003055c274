// One router call (GET /v2/logs/{request_id}): what it was, how it was routed (each attempt),
// and its request and answer when the workspace keeps bodies.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, integer, milliseconds, money } from '../format.js';
import { keyText, modelText, prettyBody, statusBadge } from '../log-view.js';
import { badge, copyButton, emptyState, notice, pageHeader } from '../ui.js';

const KINDS = { first: 'First try', retry: 'Retry', fallback: 'Fallback', skipped: 'Skipped (circuit open)' };

function definitions(rows) {
  return h('dl', { class: 'definitions' }, rows.filter(Boolean).map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? DASH)]));
}

function yesNo(value) {
  return value ? 'Yes' : 'No';
}

function overview(entry) {
  const tokens = entry.tokens ?? {};
  const error = entry.error;
  return h('section', { class: 'card', 'aria-labelledby': 'call-title' },
    h('h2', { id: 'call-title' }, 'The call'),
    definitions([
      ['Time', dateTime(entry.created)],
      ['Status', statusBadge(entry)],
      error ? ['Error', h('span', null, error.code ? h('code', null, error.code) : null, error.message ? ` ${error.message}` : '')] : null,
      ['Model', modelText(entry)],
      ['Upstream model', entry.model?.upstream ? h('code', null, entry.model.upstream) : DASH],
      ['Endpoint', h('code', null, entry.endpoint)],
      ['Streamed', yesNo(entry.stream)],
      ['API key', keyText(entry)],
      ['Identity', entry.identity ?? DASH],
      entry.deployment ? ['Deployment', `${entry.deployment.key} v${entry.deployment.version ?? '?'}${entry.deployment.variant ? ` (${entry.deployment.variant})` : ''}`] : null,
      ['Attempts', `${integer(entry.attempts)}${entry.fallback_used ? ', answered by a fallback' : ''}`],
      ['Cache', entry.cache_hit ? 'Hit (no upstream call)' : 'Not used'],
      ['Time to first byte', milliseconds(entry.ttfb_ms)],
      ['Duration', milliseconds(entry.latency_ms)],
      ['Tokens', `${integer(tokens.prompt)} in · ${integer(tokens.completion)} out${entry.estimated ? ' (estimated)' : ''}`],
      ['Cost', money(entry.cost)],
    ]));
}

function routing(entry) {
  const steps = entry.routing ?? [];
  const body = steps.length
    ? h('div', { class: 'table-wrap' }, h('table', { class: 'table table-compact log-story' },
      h('caption', { class: 'visually-hidden' }, 'Each attempt of the call, in order'),
      h('thead', null, h('tr', null, ['#', 'Model', 'Upstream model', 'Kind', 'Outcome', 'Time']
        .map((c) => h('th', { scope: 'col', class: c === 'Time' ? 'num' : null }, c)))),
      h('tbody', null, steps.map((step, index) => h('tr', null,
        h('td', { 'data-label': '#' }, String(index + 1)),
        h('td', { 'data-label': 'Model' }, h('code', null, step.model)),
        h('td', { 'data-label': 'Upstream model' }, h('code', null, step.upstream_model ?? DASH)),
        h('td', { 'data-label': 'Kind' }, KINDS[step.kind] ?? step.kind),
        h('td', { 'data-label': 'Outcome' }, step.status
          ? badge(String(step.status), step.status < 400 ? 'success' : step.status >= 500 ? 'danger' : 'warning')
          : badge(step.error_code ?? 'no answer', 'danger')),
        h('td', { 'data-label': 'Time', class: 'num' }, milliseconds(step.duration_ms)))))))
    : h('p', { class: 'muted' }, entry.cache_hit ? 'Answered from the cache: no upstream was called.' : 'No upstream was called: relaygate answered the call itself.');
  return h('section', { class: 'card', 'aria-labelledby': 'routing-title' },
    h('h2', { id: 'routing-title' }, 'Routing'), body);
}

function bodyBlock(title, text, id) {
  const shown = prettyBody(text);
  return h('div', { class: 'log-body' },
    h('div', { class: 'log-body-header' }, h('h3', { id }, title), copyButton(() => shown, { label: `Copy ${title.toLowerCase()}`, describedBy: id })),
    h('pre', { class: 'log-body-text', tabindex: '0', 'aria-labelledby': id }, shown));
}

function bodies(entry) {
  const content = entry.request_body == null && entry.response_body == null
    ? emptyState('Bodies not kept', 'This call’s request and answer were not stored: body logging was off for the workspace, or they were deleted after the retention period. Turn body logging on from the Logs page.',
      h('a', { href: '/studio/logs', class: 'button' }, 'Logs settings'))
    : [entry.request_body != null ? bodyBlock('Request', entry.request_body, 'request-body-title') : null,
      entry.response_body != null ? bodyBlock('Response', entry.response_body, 'response-body-title') : null];
  return h('section', { class: 'card', 'aria-labelledby': 'bodies-title' },
    h('h2', { id: 'bodies-title' }, 'Request and response'), content);
}

export async function render({ main, params, signal, setTitle }) {
  const requestId = params.requestId;
  const crumbs = [h('a', { href: '/studio/logs' }, 'Logs'), ' / ', h('span', { 'aria-current': 'page' }, requestId)];
  let entry;
  try {
    entry = await api(`/v2/logs/${encodeURIComponent(requestId)}`, { signal });
  } catch (error) {
    if (error.name === 'AbortError') return;
    main.append(pageHeader('Call', { breadcrumb: crumbs }),
      notice('error', error.status === 404
        ? `No call with request id ${requestId} in this workspace’s log.`
        : `The call could not be loaded. ${error.message}`));
    return;
  }
  setTitle(`Call ${requestId}`);
  replace(main,
    pageHeader('Call', { breadcrumb: crumbs, subtitle: h('span', null, 'Request id ', h('code', null, entry.request_id)) }),
    h('div', { class: 'page-stack' }, overview(entry), routing(entry), bodies(entry)));
}
