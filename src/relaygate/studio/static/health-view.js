// A model's live health (GET /v2/models/{id}/health and the `health` summary of a model object):
// the state as a badge with words (never colour alone), the 5 min / 24 h windows, the last success
// and error, the circuit breaker, the kept health checks, and the periodic check's setting.

import { api } from './api.js';
import { h, replace } from './dom.js';
import { DASH, dateTime, milliseconds, relativeTime } from './format.js';
import { field, toggle } from './forms.js';
import { badge, notice } from './ui.js';

export const HEALTH_WORDS = {
  ok: 'Healthy',
  degraded: 'Degraded',
  failing: 'Failing',
  breaker_open: 'Breaker open',
  unknown: 'No data',
};
const HEALTH_TONES = { ok: 'success', degraded: 'warning', failing: 'danger', breaker_open: 'danger', unknown: 'neutral' };
const BREAKER_WORDS = { closed: 'Closed', half_open: 'Half open (one probe call may go)', open: 'Open (calls skip this upstream)' };
const MIN_INTERVAL_S = 30;
const MAX_INTERVAL_S = 86400;

export function healthBadge(state, title) {
  const known = state in HEALTH_WORDS ? state : 'unknown';
  return badge(HEALTH_WORDS[known], HEALTH_TONES[known], title);
}

export function percent(rate) {
  if (typeof rate !== 'number') return DASH;
  const value = rate * 100;
  return `${value >= 10 || value === 0 ? Math.round(value) : value.toFixed(1)}%`;
}

/** The list's cell: the badge, then the figure it is judged by. */
export function healthCell(summary) {
  if (!summary) return healthBadge('unknown');
  const calls = summary.calls_5m ?? 0;
  const note = calls
    ? `${percent(summary.error_rate_5m)} errors · ${calls} call${calls === 1 ? '' : 's'} (5 min)`
    : summary.last_check ? `check ${summary.last_check.ok ? 'passed' : 'failed'} ${relativeTime(summary.last_check.at)}` : '';
  return [healthBadge(summary.state, summary.reasons?.join('; ') || undefined),
    note ? h('span', { class: 'cell-note' }, note) : null];
}

function definitionList(rows) {
  return h('dl', { class: 'definitions' }, rows.map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? DASH)]));
}

function outcome(value, empty) {
  if (!value) return empty;
  return h('span', null,
    h('time', { datetime: value.at, title: dateTime(value.at) }, relativeTime(value.at)),
    ' · ', value.message,
    value.code ? [' ', h('code', null, value.code)] : null);
}

function windowsTable(windows) {
  const rows = [
    ['Calls', (w) => String(w.calls)],
    ['Failed', (w) => String(w.errors)],
    ['Error rate', (w) => percent(w.error_rate)],
    ['Latency p50', (w) => milliseconds(w.p50_ms)],
    ['Latency p95', (w) => milliseconds(w.p95_ms)],
  ];
  return h('table', { class: 'table table-compact health-windows' },
    h('caption', { class: 'visually-hidden' }, 'Calls over the last 5 minutes and 24 hours'),
    h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Window'),
      windows.map((w) => h('th', { scope: 'col', class: 'num' }, w.window === '5m' ? '5 min' : '24 h')))),
    h('tbody', null, rows.map(([name, value]) => h('tr', null,
      h('th', { scope: 'row' }, name), windows.map((w) => h('td', { class: 'num' }, value(w)))))));
}

function checksList(checks) {
  if (!checks.length) return h('p', { class: 'muted' }, 'No health check has run yet.');
  return h('ol', { class: 'health-checks' }, checks.slice(0, 10).map((check) => h('li', { class: 'health-check' },
    badge(check.ok ? 'Passed' : 'Failed', check.ok ? 'success' : 'danger'),
    ' ', h('time', { datetime: check.at, title: dateTime(check.at) }, relativeTime(check.at)),
    typeof check.latency_ms === 'number' ? h('span', { class: 'muted' }, ` · ${milliseconds(check.latency_ms)}`) : null,
    h('span', { class: 'health-check-message' }, check.message))));
}

/** The periodic check's setting: a switch and an interval, saved by PATCH /v2/models/{id}. */
function checkSettingForm(model, setting, onSaved, signal) {
  const enabled = toggle({
    name: 'health_check_enabled', label: 'Run a periodic health check', checked: Boolean(setting.enabled),
    hint: 'So a model nobody calls is known to be up or down before users call it.',
  });
  const interval = field({
    name: 'interval_seconds', label: 'Every (seconds)', required: true,
    control: h('input', { type: 'number', class: 'input', min: String(MIN_INTERVAL_S), step: '1', inputmode: 'numeric', value: String(setting.interval_seconds ?? 300) }),
    hint: `At least ${MIN_INTERVAL_S} s. Each check is GET /models and a 1-token call.`,
  });
  const save = h('button', { type: 'submit', class: 'button' }, 'Save health check');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'health-check-form', novalidate: true, 'aria-label': 'Periodic health check' },
    enabled.el, interval.el, h('div', { class: 'form-actions' }, save, status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const seconds = Number(interval.control.value);
    if (!Number.isInteger(seconds) || seconds < MIN_INTERVAL_S || seconds > MAX_INTERVAL_S) {
      interval.setError(`Enter a whole number of seconds from ${MIN_INTERVAL_S} to ${MAX_INTERVAL_S}.`);
      interval.control.focus();
      status.textContent = '';
      return;
    }
    interval.setError('');
    save.disabled = true;
    status.textContent = 'Saving…';
    try {
      await api(`/v2/models/${encodeURIComponent(model.id)}`, {
        method: 'PATCH', signal, body: { health_check: { enabled: enabled.control.checked, interval_seconds: seconds } },
      });
      status.textContent = enabled.control.checked ? `Saved: a check runs now, then every ${seconds} s.` : 'Saved: no periodic check.';
      onSaved();
    } catch (error) {
      if (error?.name === 'AbortError') return;
      if (error.param?.endsWith('interval_seconds')) interval.setError(error.message);
      status.textContent = `Not saved. ${error.message}`;
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function breakerText(breaker) {
  if (!breaker) return DASH;
  const words = BREAKER_WORDS[breaker.state] ?? breaker.state;
  const retry = typeof breaker.retry_in_s === 'number' ? ` · retried in ${Math.ceil(breaker.retry_in_s)} s` : '';
  return `${words}${retry} · ${breaker.consecutive_failures} failure${breaker.consecutive_failures === 1 ? '' : 's'} in a row (opens at ${breaker.failure_threshold})`;
}

function liveBody(health) {
  const setting = health.health_check ?? {};
  return [
    h('div', { class: 'health-state' }, healthBadge(health.state),
      h('span', { class: 'muted' }, ` as of ${relativeTime(health.computed_at)}`)),
    health.reasons?.length
      ? h('ul', { class: 'health-reasons' }, health.reasons.map((reason) => h('li', null, reason)))
      : h('p', { class: 'muted' }, 'No failures in the last 5 minutes.'),
    h('div', { class: 'table-wrap' }, windowsTable(health.windows ?? [])),
    definitionList([
      ['Last success', outcome(health.last_success, 'None recorded')],
      ['Last error', outcome(health.last_error, 'None recorded')],
      ['Circuit breaker', breakerText(health.breaker)],
      ['Health check', setting.enabled ? `Every ${setting.interval_seconds} s` : 'Off'],
    ]),
    h('h3', null, 'Recent health checks'),
    checksList(health.checks ?? []),
  ];
}

/** The model detail's Health card; loads GET /v2/models/{id}/health and reloads on demand. */
export function healthCard(model, signal) {
  const live = h('div', { class: 'health-body', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Loading health…'));
  const settingSlot = h('div', { class: 'health-setting' });
  const refresh = h('button', { type: 'button', class: 'button button-small' }, 'Refresh');
  let formShown = false;
  const load = async () => {
    refresh.disabled = true;
    live.setAttribute('aria-busy', 'true');
    try {
      const health = await api(`/v2/models/${encodeURIComponent(model.id)}/health`, { signal });
      replace(live, ...liveBody(health));
      if (!formShown) {
        formShown = true;
        replace(settingSlot, checkSettingForm(model, health.health_check ?? {}, load, signal));
      }
    } catch (error) {
      if (error?.name === 'AbortError') return;
      replace(live, notice('error', `The health could not be loaded. ${error.message}`));
    } finally {
      refresh.disabled = false;
      live.setAttribute('aria-busy', 'false');
    }
  };
  refresh.addEventListener('click', load);
  load();
  return h('section', { class: 'card health-card', 'aria-labelledby': 'health-title' },
    h('div', { class: 'card-header' }, h('h2', { id: 'health-title' }, 'Health'), refresh),
    h('p', { class: 'muted' }, 'Live: the calls of every relaygate process and the health checks.'),
    live, settingSlot);
}
