// Spend: who spends what over a range (GET /v2/spend per key, identity, model and deployment), each
// row's burn rate, the calls limits refused and the budget that applies (near its limit from 80 %);
// CSV downloads; and the workspace's and identities' budgets, listed, created, edited and deleted.

import { api, query, send } from '../api.js';
import { budgetBlock } from '../budget-view.js';
import { h, replace } from '../dom.js';
import { DASH, compact, dateTime, integer, money, plural } from '../format.js';
import { selectInput, textInput } from '../forms.js';
import { emptyState, notice, pageHeader } from '../ui.js';
import { budgetsSection } from '../budgets-editor.js';

const RANGES = [['24h', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom range']];
const RANGE_MS = { '24h': 86_400_000, '7d': 7 * 86_400_000, '30d': 30 * 86_400_000 };
const TABLES = [
  { group: 'key', title: 'By API key', column: 'API key', budgets: true, empty: 'No key of this workspace made a call in this range.' },
  { group: 'identity', title: 'By identity', column: 'Identity', budgets: true, empty: 'No call named an identity in this range.' },
  { group: 'model', title: 'By model', column: 'Model', budgets: false, empty: 'No model was called in this range.' },
  { group: 'deployment', title: 'By deployment', column: 'Deployment', budgets: false, empty: 'No deployment was invoked in this range.' },
];
const NONE_LABEL = { key: '(no key)', identity: '(no identity)', model: '(no model)', deployment: '(not through a deployment)' };

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function control(label, input, className = '') {
  return h('div', { class: ['toolbar-field', className] }, h('label', { for: input.id }, label), input);
}

function refusedText(refusals) {
  const total = (refusals?.budget ?? 0) + (refusals?.rate_limit ?? 0);
  if (!total) return '0';
  const parts = [];
  if (refusals.budget) parts.push(`${integer(refusals.budget)} budget`);
  if (refusals.rate_limit) parts.push(`${integer(refusals.rate_limit)} rate limit`);
  return `${integer(total)} (${parts.join(', ')})`;
}

function budgetCell(budget) {
  if (!budget) return DASH;
  return h('div', { class: 'cell-stack' },
    budgetBlock(budget, null),
    budget.projected_usd !== undefined && budget.projected_usd !== null
      ? h('span', { class: budget.projected_over ? 'refusal-note' : 'muted small' },
        `Projected ${money(budget.projected_usd)} by the period's end${budget.projected_over ? ': over the budget' : ''}`)
      : null);
}

function spendTable(spec, report) {
  const rows = report.data ?? [];
  if (!rows.length) return emptyState('Nothing spent', spec.empty);
  const headers = [spec.column, 'Spend', 'Calls', 'Tokens', 'Refused (429)', 'Per day', ...(spec.budgets ? ['Budget this period'] : [])];
  const numeric = new Set(['Spend', 'Calls', 'Tokens', 'Per day']);
  return h('table', { class: 'table spend-table' },
    h('caption', { class: 'visually-hidden' }, `Spend ${spec.title.toLowerCase()}`),
    h('thead', null, h('tr', null, headers.map((c) => h('th', { scope: 'col', class: numeric.has(c) ? 'num' : null }, c)))),
    h('tbody', null, rows.map((row) => h('tr', { class: row.budget?.near_limit ? 'row-near-limit' : null },
      h('th', { scope: 'row', class: 'row-name' }, row.group == null ? h('span', { class: 'muted' }, NONE_LABEL[spec.group])
        : h('code', null, row.name ?? row.group)),
      h('td', { class: 'num' }, money(row.spend_usd)),
      h('td', { class: 'num' }, integer(row.calls)),
      h('td', { class: 'num' }, compact(row.total_tokens)),
      h('td', { class: (row.refusals?.budget || row.refusals?.rate_limit) ? 'refused-cell' : null }, refusedText(row.refusals)),
      h('td', { class: 'num' }, money(row.burn_usd_per_day)),
      spec.budgets ? h('td', null, budgetCell(row.budget)) : null))));
}

function totalsCards(totals) {
  const t = totals ?? {};
  const refused = (t.refusals?.budget ?? 0) + (t.refusals?.rate_limit ?? 0);
  const card = (label, value, detail) => h('div', { class: 'stat' },
    h('p', { class: 'stat-label' }, label), h('p', { class: 'stat-value' }, value), h('p', { class: 'stat-detail' }, detail));
  return h('div', { class: 'stats' },
    card('Spend', money(t.spend_usd ?? 0), 'Settled calls in the range'),
    card('Calls', integer(t.calls ?? 0), `${compact(t.total_tokens ?? 0)} tokens`),
    card('Burn rate', `${money(t.burn_usd_per_day ?? 0)}/day`, 'Spend per day of the range'),
    card('Refused', integer(refused), refused ? refusedText(t.refusals) : 'No call was refused (429)'));
}

async function download(group, params, button, slot) {
  button.disabled = true;
  try {
    const response = await send(`/v2/spend${query({ ...params, group_by: group, format: 'csv' })}`, { accept: 'text/csv' });
    const url = URL.createObjectURL(await response.blob());
    const link = h('a', { href: url, download: `spend-by-${group}.csv`, class: 'visually-hidden' }, 'download');
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (error) {
    replace(slot, notice('error', `The CSV could not be downloaded. ${error.message}`));
  } finally {
    button.disabled = false;
  }
}

export async function render({ main, query: params, signal }) {
  main.append(pageHeader('Spend', { subtitle: 'Who spends what, how fast, against which budget, and which calls the limits refused.' }));

  const range = selectInput(RANGES, { value: RANGE_MS[params.get('range')] ? params.get('range') : '7d' });
  range.id = 'spend-range';
  const now = new Date();
  const fromInput = textInput({ type: 'datetime-local', value: localInputValue(new Date(now - RANGE_MS['7d'])) });
  fromInput.id = 'spend-from';
  const toInput = textInput({ type: 'datetime-local', value: localInputValue(now) });
  toInput.id = 'spend-to';
  const customFields = [control('From', fromInput, 'custom-range'), control('To', toInput, 'custom-range')];
  const refresh = h('button', { type: 'submit', class: 'button' }, 'Refresh');
  const filters = h('form', { class: 'toolbar toolbar-wrap', role: 'search', 'aria-label': 'Spend range', novalidate: true },
    control('Range', range), ...customFields, h('div', { class: 'toolbar-field toolbar-button' }, refresh));
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const totalsSlot = h('div', { class: 'totals-slot' }, totalsCards(null));
  const workspaceSlot = h('div', { class: 'workspace-budgets' });
  const sections = TABLES.map((spec) => {
    const titleId = `spend-${spec.group}-title`;
    const tableSlot = h('div', { class: 'table-wrap table-reserve' });
    const errorSlot = h('div', { class: 'error-slot' });
    const csv = h('button', { type: 'button', class: 'button button-small', 'aria-describedby': titleId }, 'Download CSV');
    const el = h('section', { class: 'spend-section', 'aria-labelledby': titleId },
      h('div', { class: 'section-header' }, h('h2', { id: titleId }, spec.title), csv), errorSlot, tableSlot);
    return { spec, el, tableSlot, errorSlot, csv };
  });
  const budgets = budgetsSection({ signal, onChange: () => load() });
  main.append(filters, status, totalsSlot, workspaceSlot, ...sections.map((s) => s.el), budgets.el);

  const showCustom = () => { for (const el of customFields) el.hidden = range.value !== 'custom'; };
  showCustom();
  const period = () => {
    if (range.value === 'custom') return { from: new Date(fromInput.value), to: new Date(toInput.value) };
    const to = new Date();
    return { from: new Date(to - RANGE_MS[range.value]), to };
  };
  let current = {};
  for (const section of sections) {
    section.csv.addEventListener('click', () => download(section.spec.group, current, section.csv, section.errorSlot));
  }

  function drawWorkspaceBudgets(list) {
    if (!list?.length) {
      replace(workspaceSlot);
      return;
    }
    replace(workspaceSlot, h('div', { class: 'card workspace-budget-card' },
      h('h2', null, 'Workspace budget'),
      list.map((budget) => budgetCell(budget))));
  }

  async function load() {
    const { from, to } = period();
    if (Number.isNaN(from.getTime()) || Number.isNaN(to.getTime()) || from >= to) {
      status.textContent = 'Choose a start before the end of the range.';
      return;
    }
    current = { from: from.toISOString(), to: to.toISOString() };
    status.textContent = 'Loading spend…';
    const reports = await Promise.all(sections.map(async (section) => {
      try {
        const report = await api(`/v2/spend${query({ ...current, group_by: section.spec.group })}`, { signal });
        replace(section.errorSlot);
        replace(section.tableSlot, spendTable(section.spec, report));
        return report;
      } catch (error) {
        if (error.name !== 'AbortError') replace(section.tableSlot, notice('error', `Spend ${section.spec.title.toLowerCase()} could not be loaded. ${error.message}`));
        return null;
      }
    }));
    if (signal.aborted) return;
    const first = reports.find(Boolean);
    if (first) {
      replace(totalsSlot, totalsCards(first.totals));
      drawWorkspaceBudgets(first.workspace_budgets);
    }
    const near = reports.filter(Boolean).flatMap((r) => r.data ?? []).filter((row) => row.budget?.near_limit).length
      + (first?.workspace_budgets ?? []).filter((b) => b.near_limit).length;
    status.textContent = `Showing ${dateTime(from)} to ${dateTime(to)}.${near ? ` ${plural(near, 'budget')} near ${near === 1 ? 'its' : 'their'} limit.` : ''}`;
  }

  range.addEventListener('change', () => {
    showCustom();
    if (range.value !== 'custom') load();
  });
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  for (const section of sections) replace(section.tableSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading…'));
  await Promise.all([load(), budgets.load()]);
}
