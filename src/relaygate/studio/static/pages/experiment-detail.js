// One experiment: a live progress bar (server-sent events), start / pause / cancel / resume, the
// per-target summary and its charts, the results grid (datapoints x targets, scores coloured and
// worded) and a drill-down of one datapoint with every target's answer side by side.

import { api, query, send } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, integer, milliseconds, money, plural } from '../format.js';
import { textInput } from '../forms.js';
import { datapointText, experimentStatus, exportButtons, listAll, scoreBadge, scoreNumber, snippet } from '../lab-shared.js';
import { scatterChart } from '../score-chart.js';
import { readEvents } from '../sse.js';
import { announce, confirmDialog, notice, pageHeader, setFlash } from '../ui.js';

const RESULTS_PAGE = 100;
const RESUMABLE = new Set(['paused', 'cancelled', 'budget_reached', 'failed']);
const REFRESH_MS = 1200;
const percent = (value) => (typeof value === 'number' ? `${Math.round(value * 1000) / 10}%` : DASH);

function resultCell(result) {
  if (!result) return h('td', { class: 'lab-cell' }, h('span', { class: 'muted' }, 'Not run'));
  if (result.status === 'pending' || result.status === 'claimed') {
    return h('td', { class: 'lab-cell' }, h('span', { class: 'badge badge-neutral' }, result.status === 'claimed' ? 'Running…' : 'Pending'));
  }
  if (result.status === 'failed') {
    return h('td', { class: 'lab-cell lab-cell-failed' },
      h('span', { class: 'badge badge-danger' }, 'Error'),
      h('p', { class: 'lab-output small' }, snippet(result.error, 140)));
  }
  return h('td', { class: 'lab-cell' },
    h('p', { class: 'lab-output' }, snippet(result.output, 140) || h('span', { class: 'muted' }, '(empty answer)')),
    result.scores?.length ? h('div', { class: 'lab-scores' }, result.scores.map((score) => scoreBadge(score))) : null,
    h('p', { class: 'lab-cell-meta' }, `${milliseconds(result.latency_ms)} · ${money(result.cost_usd)}`));
}

function drillDown(row, number, experiment, point) {
  const byTarget = new Map(row.results.map((result) => [result.target, result]));
  const messages = Array.isArray(point?.messages) ? point.messages : [];
  return h('section', { class: 'card lab-drill', 'aria-labelledby': 'drill-title' },
    h('h2', { id: 'drill-title', tabindex: '-1' }, `Datapoint ${number}: every answer side by side`),
    messages.length
      ? h('ol', { class: 'prompt-view' }, messages.map((message) => h('li', { class: 'prompt-message' },
        h('span', { class: 'message-role' }, message.role),
        h('p', { class: 'prompt-text' }, typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))))
      : h('p', null, snippet(datapointText(point ?? row), 400) || h('span', { class: 'muted' }, 'The datapoint is no longer in the dataset.')),
    row.inputs && Object.keys(row.inputs).length ? h('p', null, h('span', { class: 'muted' }, 'Inputs: '), h('code', null, JSON.stringify(row.inputs))) : null,
    h('p', null, h('span', { class: 'muted' }, 'Expected output: '), row.expected_output ?? DASH),
    h('div', { class: 'lab-compare' }, experiment.targets.map((target) => {
      const result = byTarget.get(target.index);
      const failed = result?.status === 'failed';
      return h('article', { class: 'lab-answer', 'aria-label': `Answer of ${target.label}` },
        h('h3', { class: 'lab-answer-title' }, h('span', { class: `legend-swatch series-${target.index % 8}`, 'aria-hidden': 'true' }), h('code', null, target.label)),
        !result || result.status === 'pending' || result.status === 'claimed'
          ? h('p', { class: 'muted' }, 'Not answered yet.')
          : [
            failed ? notice('error', result.error ?? 'The generation failed.') : h('pre', { class: 'lab-answer-text', tabindex: '0', 'aria-label': `Output of ${target.label}` }, result.output ?? ''),
            result.scores?.length ? h('ul', { class: 'lab-score-list' }, result.scores.map((score) => h('li', null,
              scoreBadge(score), score.error ? h('p', { class: 'small' }, score.error) : score.reason ? h('p', { class: 'small' }, score.reason) : null))) : null,
            h('dl', { class: 'definitions lab-answer-facts' },
              h('dt', null, 'Latency'), h('dd', null, milliseconds(result.latency_ms)),
              h('dt', null, 'First token'), h('dd', null, milliseconds(result.ttft_ms)),
              h('dt', null, 'Tokens'), h('dd', null, `${integer(result.tokens?.prompt)} in · ${integer(result.tokens?.completion)} out`),
              h('dt', null, 'Cost'), h('dd', null, `${money(result.cost_usd)} + ${money(result.evaluation_cost_usd)} scoring`),
              result.answered_by ? [h('dt', null, 'Answered by'), h('dd', null, h('code', null, result.answered_by))] : null,
              result.deployment_version ? [h('dt', null, 'Version'), h('dd', null, `v${result.deployment_version}`)] : null),
          ]);
    })));
}

function summaryTable(summary, experiment) {
  const evaluators = experiment.evaluators ?? [];
  return h('div', { class: 'table-wrap lab-scroll', tabindex: '0', role: 'region', 'aria-label': 'Summary per target' },
    h('table', { class: 'table table-compact' },
      h('caption', { class: 'visually-hidden' }, 'Summary per target'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'Target'),
        evaluators.map((evaluator) => h('th', { scope: 'col' }, evaluator.key)),
        ['Done', 'Errors', 'Latency p50 / p95', 'Cost', 'Per item'].map((c) => h('th', { scope: 'col', class: 'num' }, c)))),
      h('tbody', null, summary.targets.map((target) => h('tr', null,
        h('th', { scope: 'row' }, h('span', { class: `legend-swatch series-${target.target % 8}`, 'aria-hidden': 'true' }), ' ', h('code', null, `${target.target + 1}. ${target.label}`)),
        target.scores.map((score) => h('td', null, score.count
          ? h('span', null, `mean ${scoreNumber(score.mean)}`, score.pass_rate !== null ? h('span', { class: score.pass_rate >= 0.5 ? 'lab-good' : 'lab-bad' }, ` · ${percent(score.pass_rate)} pass`) : null,
            score.errors ? h('span', { class: 'muted' }, ` · ${plural(score.errors, 'error')}`) : null)
          : h('span', { class: 'muted' }, score.errors ? plural(score.errors, 'error') : 'No scores yet'))),
        h('td', { class: 'num' }, `${integer(target.done)} / ${integer(target.items)}`),
        h('td', { class: 'num' }, target.failed ? h('span', { class: 'lab-bad' }, integer(target.failed)) : '0'),
        h('td', { class: 'num' }, `${milliseconds(target.latency_ms?.p50)} / ${milliseconds(target.latency_ms?.p95)}`),
        h('td', { class: 'num' }, money(target.cost?.total_usd)),
        h('td', { class: 'num' }, money(target.cost?.per_item_usd)))))));
}

function charts(summary, experiment, chosen) {
  const evaluators = experiment.evaluators ?? [];
  const picked = evaluators.find((e) => e.id === chosen) ?? evaluators[0];
  const yOf = (target) => {
    if (!picked) return target.done + target.failed ? target.done / (target.done + target.failed) : NaN;
    const score = target.scores.find((s) => s.evaluator_id === picked.id);
    return typeof score?.mean === 'number' ? score.mean : NaN;
  };
  const yTitle = picked ? `${picked.key} mean` : 'success rate';
  const points = (xOf) => summary.targets.map((target) => ({ name: target.label, index: target.target, x: xOf(target), y: yOf(target) }));
  const yFormat = (value) => scoreNumber(value);
  return [
    scatterChart({
      title: `Score vs cost: ${yTitle} by cost per item`, xTitle: 'cost per item (USD)', yTitle,
      points: points((t) => t.cost?.per_item_usd ?? NaN), formatX: money, formatY: yFormat,
    }),
    scatterChart({
      title: `Score vs latency: ${yTitle} by p50 latency`, xTitle: 'p50 latency', yTitle,
      points: points((t) => t.latency_ms?.p50 ?? NaN), formatX: milliseconds, formatY: yFormat,
    }),
  ];
}

export async function render({ main, params, signal, navigate, setTitle }) {
  const base = `/v2/experiments/${encodeURIComponent(params.id)}`;
  let experiment;
  try {
    experiment = await api(base, { signal });
  } catch (error) {
    if (error.name === 'AbortError') return;
    main.append(pageHeader('Experiment', { breadcrumb: h('a', { href: '/studio/experiments' }, 'Experiments') }),
      notice('error', error.status === 404 ? 'There is no such experiment in this workspace.' : `The experiment could not be loaded. ${error.message}`));
    return;
  }
  setTitle(experiment.name);
  let points = new Map();
  listAll(`/v2/datasets/${encodeURIComponent(experiment.dataset_id)}/datapoints`, signal, { max: 2000 })
    .then((found) => { points = new Map(found.map((point) => [point._id, point])); drawGrid(); })
    .catch(() => {});

  const errorSlot = h('div', { class: 'error-slot' });
  const statusSlot = h('span');
  const actions = h('div', { class: 'page-actions lab-actions' });
  const bar = h('progress', { class: 'lab-progress', max: '1', value: '0', 'aria-label': 'Experiment progress' });
  const barText = h('p', { class: 'lab-progress-text' });
  const summarySlot = h('div', { class: 'lab-summary' });
  const chartPicker = h('select', { class: 'input', id: 'chart-evaluator' },
    (experiment.evaluators ?? []).map((e) => h('option', { value: e.id }, e.key)));
  const chartSlot = h('div', { class: 'charts' });
  const gridSlot = h('div', { class: 'table-wrap table-reserve lab-scroll lab-grid', tabindex: '0', role: 'region', 'aria-label': 'Results: datapoints by targets' });
  const moreButton = h('button', { type: 'button', class: 'button', hidden: true }, 'Load more datapoints');
  const drillSlot = h('div', { class: 'lab-drill-slot' });
  let rows = [];
  let hasMore = false;
  let summary = null;
  let openRow = null;

  const showError = (message) => replace(errorSlot, notice('error', message));

  function drawProgress() {
    const p = experiment.progress ?? {};
    const finished = (p.done ?? 0) + (p.failed ?? 0);
    bar.max = String(Math.max(1, p.total ?? 0));
    bar.value = String(finished);
    bar.setAttribute('aria-valuetext', `${finished} of ${p.total ?? 0} finished`);
    const budget = experiment.budget_usd ? ` of ${money(experiment.budget_usd)} budget` : '';
    replace(barText,
      h('span', { class: 'strong' }, p.total ? `${integer(finished)} of ${integer(p.total)} finished` : 'Not started'),
      h('span', null, `Done ${integer(p.done ?? 0)}`),
      h('span', { class: p.failed ? 'lab-bad' : null }, `Failed ${integer(p.failed ?? 0)}`),
      h('span', null, `Remaining ${integer(p.remaining ?? 0)}`),
      h('span', null, `Spend ${money(p.spend_usd ?? 0)}${budget}`));
    replace(statusSlot, experimentStatus(experiment.status), experiment.error ? h('span', { class: 'lab-bad small' }, ` ${experiment.error}`) : null);
  }

  async function act(action, body) {
    replace(errorSlot);
    try {
      experiment = await api(`${base}/${action}`, { method: 'POST', body });
      drawProgress();
      drawActions();
      announce(`The experiment is ${experiment.status.replace('_', ' ')}.`);
      if (experiment.status === 'running') follow();
    } catch (error) {
      showError(`${action[0].toUpperCase()}${action.slice(1)} failed. ${error.message}`);
    }
  }

  function drawActions() {
    const buttons = [];
    const button = (label, handler, className = 'button') => {
      const el = h('button', { type: 'button', class: className }, label);
      el.addEventListener('click', handler);
      buttons.push(el);
    };
    if (experiment.status === 'draft') button('Start', () => act('start'), 'button button-primary');
    if (experiment.status === 'running') button('Pause', () => act('pause'));
    if (experiment.status === 'running' || experiment.status === 'paused') {
      button('Cancel run', async () => {
        if (await confirmDialog({ title: 'Cancel this run?', message: 'Items in flight are abandoned; what is finished stays. You can resume it later.', confirmLabel: 'Cancel run', danger: true })) act('cancel');
      }, 'button button-danger-quiet');
    }
    if (RESUMABLE.has(experiment.status)) {
      if (experiment.status === 'budget_reached') {
        const budget = textInput({ type: 'number', inputmode: 'decimal', placeholder: 'USD' });
        budget.id = 'resume-budget';
        budget.step = 'any';
        buttons.push(h('div', { class: 'lab-inline-field' }, h('label', { for: 'resume-budget' }, 'New budget'), budget));
        button('Resume', () => {
          const value = Number(budget.value);
          if (!(value > 0)) {
            showError('Enter a new budget above the spend so far to resume.');
            budget.focus();
            return;
          }
          act('resume', { budget_usd: value });
        }, 'button button-primary');
      } else {
        button('Resume', () => act('resume'), 'button button-primary');
      }
    }
    if (experiment.status === 'completed' && experiment.progress?.failed) {
      button(`Retry ${plural(experiment.progress.failed, 'failed item')}`, () => act('resume', { retry_failed: true }));
    }
    button('Delete', async () => {
      if (!(await confirmDialog({ title: `Delete ${experiment.name}?`, message: 'Its results are deleted with it.', confirmLabel: 'Delete experiment', danger: true }))) return;
      try {
        await send(base, { method: 'DELETE' });
        setFlash('success', `${experiment.name} was deleted.`);
        navigate('/experiments');
      } catch (error) {
        showError(`The experiment was not deleted. ${error.message}`);
      }
    }, 'button button-danger-quiet');
    replace(actions, buttons);
  }

  function drawGrid() {
    if (!rows.length) {
      replace(gridSlot, h('p', { class: 'muted lab-grid-empty' }, experiment.status === 'draft' ? 'Start the experiment to see its results here.' : 'No results yet.'));
      moreButton.hidden = true;
      return;
    }
    moreButton.hidden = !hasMore;
    replace(gridSlot, h('table', { class: 'table lab-results' },
      h('caption', { class: 'visually-hidden' }, 'Results: one row per datapoint, one column per target'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Datapoint'),
        experiment.targets.map((target) => h('th', { scope: 'col' }, h('span', { class: `legend-swatch series-${target.index % 8}`, 'aria-hidden': 'true' }), ' ', `${target.index + 1}. ${target.label}`)))),
      h('tbody', null, rows.map((row, index) => {
        const byTarget = new Map(row.results.map((result) => [result.target, result]));
        const compare = h('button', { type: 'button', class: 'button button-small', 'aria-label': `Compare the answers to datapoint ${index + 1}` }, 'Compare');
        compare.addEventListener('click', () => openDrill(index));
        const question = datapointText(points.get(row.datapoint_id) ?? row);
        return h('tr', { class: openRow === index ? 'lab-row-open' : null },
          h('th', { scope: 'row', class: 'lab-row-head' },
            h('p', { class: 'lab-question' }, `${index + 1}. ${snippet(question, 100) || row.datapoint_id}`),
            row.expected_output ? h('p', { class: 'small muted' }, `Expected: ${snippet(row.expected_output, 60)}`) : null,
            compare),
          experiment.targets.map((target) => resultCell(byTarget.get(target.index))));
      }))));
  }

  function openDrill(index) {
    openRow = index;
    drawGrid();
    replace(drillSlot, drillDown(rows[index], index + 1, experiment, points.get(rows[index].datapoint_id)));
    const heading = drillSlot.querySelector('h2');
    heading.scrollIntoView({ block: 'start' });
    heading.focus({ preventScroll: true });
  }

  async function loadResults(more = false) {
    const count = more ? RESULTS_PAGE : Math.max(RESULTS_PAGE, Math.min(200, rows.length));
    const after = more && rows.length ? rows.at(-1).datapoint_id : null;
    const page = await api(`${base}/results${query({ limit: count, starting_after: after })}`, { signal });
    rows = more ? [...rows, ...(page.data ?? [])] : (page.data ?? []);
    hasMore = Boolean(page.has_more);
    drawGrid();
    if (openRow !== null && rows[openRow] && drillSlot.firstChild) {
      replace(drillSlot, drillDown(rows[openRow], openRow + 1, experiment, points.get(rows[openRow].datapoint_id)));
    }
  }

  function drawSummary() {
    if (!summary) return;
    replace(summarySlot, summaryTable(summary, experiment));
    replace(chartSlot, charts(summary, experiment, chartPicker.value));
  }

  async function refresh() {
    try {
      [summary] = await Promise.all([api(`${base}/summary`, { signal }), loadResults()]);
      drawSummary();
    } catch (error) {
      if (error.name !== 'AbortError') showError(`The results could not be loaded. ${error.message}`);
    }
  }

  let refreshTimer = 0;
  const scheduleRefresh = () => {
    if (refreshTimer) return;
    // The summary reads every result: a bigger run is summed up less often while it goes.
    const wait = Math.min(10_000, REFRESH_MS + (experiment.progress?.total ?? 0) * 2);
    refreshTimer = setTimeout(() => { refreshTimer = 0; refresh(); }, wait);
  };

  let following = false;
  async function follow() {
    if (following) return;
    following = true;
    try {
      while (!signal.aborted) {
        const p = experiment.progress ?? {};
        const since = (p.done ?? 0) + (p.failed ?? 0);
        const response = await send(`${base}/events${query({ since })}`, { signal, accept: 'text/event-stream' });
        for await (const event of readEvents(response)) {
          let data;
          try {
            data = JSON.parse(event.data);
          } catch {
            continue;
          }
          if (event.event === 'item') {
            const progress = experiment.progress;
            if (data.status === 'done') progress.done += 1;
            else if (data.status === 'failed') progress.failed += 1;
            progress.total = data.total ?? progress.total;
            progress.remaining = Math.max(0, progress.total - progress.done - progress.failed);
            progress.spend_usd = (progress.spend_usd ?? 0) + (data.cost_usd ?? 0) + (data.evaluation_cost_usd ?? 0);
            drawProgress();
            scheduleRefresh();
          } else if (event.event === 'status') {
            if (data.status === 'deleted') {
              setFlash('info', `${experiment.name} was deleted.`);
              navigate('/experiments');
              return;
            }
            const changed = data.status !== experiment.status;
            experiment.status = data.status;
            experiment.error = data.error;
            if (data.progress) experiment.progress = data.progress;
            drawProgress();
            if (changed) {
              drawActions();
              announce(`The experiment is ${data.status.replace('_', ' ')}.`);
            }
          }
        }
        experiment = await api(base, { signal });
        drawProgress();
        drawActions();
        if (experiment.status !== 'running') break;
        await new Promise((resolve) => { setTimeout(resolve, 500); });
      }
      await refresh();
    } catch (error) {
      if (error.name !== 'AbortError') showError(`Live progress stopped: ${error.message} Reload the page to follow the run again.`);
    } finally {
      following = false;
    }
  }

  chartPicker.addEventListener('change', drawSummary);
  moreButton.addEventListener('click', () => loadResults(true).catch((error) => showError(`More results could not be loaded. ${error.message}`)));
  const datasetLink = h('a', { href: `/studio/datasets/${encodeURIComponent(experiment.dataset_id)}` }, 'its dataset');
  main.append(
    pageHeader(experiment.name, { breadcrumb: h('a', { href: '/studio/experiments' }, 'Experiments') }),
    h('div', { class: 'header-meta' }, statusSlot,
      h('span', { class: 'muted' }, `${plural(experiment.targets.length, 'target')} · ${plural(experiment.evaluators?.length ?? 0, 'evaluator')} · concurrency ${experiment.concurrency} · `, datasetLink)),
    actions,
    errorSlot,
    h('section', { class: 'card lab-progress-card', 'aria-labelledby': 'progress-title' },
      h('h2', { id: 'progress-title' }, 'Progress'), bar, barText),
    h('section', { 'aria-labelledby': 'summary-title' },
      h('div', { class: 'section-header' }, h('h2', { id: 'summary-title' }, 'Per target'),
        exportButtons(`${base}/export`, `experiment-${experiment.id}`, (message) => showError(`The export failed. ${message}`), 'Export results')),
      summarySlot,
      (experiment.evaluators ?? []).length > 1
        ? h('div', { class: 'toolbar lab-chart-toolbar' }, h('div', { class: 'toolbar-field' }, h('label', { for: 'chart-evaluator' }, 'Charts show the score of'), chartPicker))
        : null,
      chartSlot),
    h('section', { 'aria-labelledby': 'results-title' },
      h('div', { class: 'section-header' }, h('h2', { id: 'results-title' }, 'Results')),
      gridSlot, h('div', { class: 'load-more' }, moreButton)),
    drillSlot);
  drawProgress();
  drawActions();
  replace(gridSlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading results…'));
  await refresh();
  if (experiment.status === 'running') follow();
  return () => clearTimeout(refreshTimer);
}
