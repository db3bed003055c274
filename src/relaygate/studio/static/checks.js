// The validation steps of a model (connectivity, authentication, capability, ...), shown live while
// the server probes the upstream, and afterwards as the model's last validation report.

import { h, replace } from './dom.js';
import { milliseconds } from './format.js';

const EXPECTED = ['connectivity', 'authentication', 'capability'];
const NAMES = {
  connectivity: 'Connectivity',
  authentication: 'Authentication',
  capability: 'Capability',
  capabilities: 'Capabilities',
  model: 'Model listed',
  timeout: 'Time limit',
  supports_tool_calling: 'Tool calling',
  supports_strict_tool: 'Strict tools',
  supports_vision: 'Vision',
  supports_image_edit: 'Image edit',
  supports_reasoning: 'Reasoning',
  has_reasoning: 'Reasoning',
  supports_responses_api: 'Responses API',
};
const STATE_WORDS = {
  waiting: 'Waiting',
  running: 'Checking…',
  passed: 'Passed',
  failed: 'Failed',
  warning: 'Warning',
  skipped: 'Skipped',
  'not-run': 'Not run',
};
const ICONS = { waiting: '○', running: '', passed: '✓', failed: '✕', warning: '!', skipped: '–', 'not-run': '–' };

export const checkName = (name) => NAMES[name] ?? String(name).replace(/_/g, ' ').replace(/^./, (c) => c.toUpperCase());

export function sentence(text) {
  const value = String(text ?? '').trim();
  return value ? value[0].toUpperCase() + value.slice(1) : '';
}

/** The words for a failed validation: "Authentication failed: the upstream rejected ...". */
export function failureSummary(error) {
  const checks = error?.validation?.checks ?? [];
  const failed = checks.find((check) => check.status === 'failed');
  if (failed) return `${checkName(failed.name)} failed: ${failed.message || error.message}`;
  return error?.message ?? 'Validation failed.';
}

/**
 * checklist() -> {el, start(), update(check), finish(validation), fail(error), show(validation)}
 * el holds the list of steps and a polite live status line that narrates progress.
 */
export function checklist({ idle = '' } = {}) {
  const rows = new Map();
  const list = h('ol', { class: 'checks' });
  const status = h('p', { class: 'checks-status', role: 'status', 'aria-live': 'polite' }, idle);
  const summary = h('div', { class: 'checks-summary' });
  const el = h('div', { class: 'checklist' }, list, status, summary);

  function row(name) {
    if (!rows.has(name)) {
      const icon = h('span', { class: 'check-icon', 'aria-hidden': 'true' });
      const state = h('span', { class: 'check-state' });
      const message = h('span', { class: 'check-message' });
      const latency = h('span', { class: 'check-latency' });
      const item = h('li', { class: 'check' },
        icon, h('span', { class: 'check-main' }, h('span', { class: 'check-name' }, checkName(name)), message), state, latency);
      rows.set(name, { item, icon, state, message, latency });
      list.append(item);
    }
    return rows.get(name);
  }

  function set(name, state, message = '', latencyMs = null) {
    const r = row(name);
    r.item.className = `check check-${state}`;
    r.icon.textContent = ICONS[state] ?? '';
    r.state.textContent = STATE_WORDS[state] ?? state;
    r.message.textContent = sentence(message);
    r.latency.textContent = typeof latencyMs === 'number' && latencyMs > 0 ? milliseconds(latencyMs) : '';
  }

  function reset() {
    rows.clear();
    list.replaceChildren();
    replace(summary);
    for (const name of EXPECTED) set(name, 'waiting');
  }

  function runNext() {
    for (const [name, r] of rows) {
      if (r.item.classList.contains('check-waiting')) {
        set(name, 'running');
        status.textContent = `Checking ${checkName(name).toLowerCase()}…`;
        return;
      }
    }
  }

  function closeOpenRows() {
    for (const [name, r] of rows) {
      if (r.item.classList.contains('check-waiting') || r.item.classList.contains('check-running')) set(name, 'not-run');
    }
  }

  function apply(checks) {
    for (const check of checks ?? []) set(check.name, check.status, check.message, check.latency_ms);
  }

  reset();
  return {
    el,
    start() {
      reset();
      runNext();
    },
    update(check) {
      set(check.name, check.status, check.message, check.latency_ms);
      status.textContent = `${checkName(check.name)}: ${STATE_WORDS[check.status] ?? check.status}.`;
      if (check.status !== 'failed') runNext();
    },
    finish(validation) {
      apply(validation?.checks);
      closeOpenRows();
      const warned = validation?.status === 'warning';
      status.textContent = warned ? 'Validation passed with warnings.' : 'All checks passed.';
      replace(summary);
    },
    fail(error) {
      const checks = error?.validation?.checks ?? [];
      apply(checks);
      closeOpenRows();
      if (!checks.length) {
        // Refused before any check ran (a field, a name already taken, the server away): say so,
        // not that a validation failed.
        status.textContent = 'Not validated: nothing was checked.';
        replace(summary);
        return;
      }
      status.textContent = checks.some((check) => check.status === 'failed') ? 'Validation failed.' : 'Validation stopped.';
      replace(summary, h('div', { class: 'notice notice-error', role: 'alert' }, h('p', null, failureSummary(error))));
    },
    /** Show a stored report (no live narration). */
    show(validation) {
      rows.clear();
      list.replaceChildren();
      replace(summary);
      if (!validation?.checks?.length) {
        status.textContent = 'This model has not been validated yet.';
        return;
      }
      apply(validation.checks);
      status.textContent = '';
    },
    setStatus(text) {
      status.textContent = text;
    },
  };
}
