// Experiments: every run of a dataset on several targets, with its status and progress.

import { h, replace } from '../dom.js';
import { dateTime, integer, money, relativeTime } from '../format.js';
import { experimentStatus, listAll } from '../lab-shared.js';
import { emptyState, notice, pageHeader } from '../ui.js';

const COLUMNS = ['Name', 'Status', 'Targets', 'Progress', 'Spend', 'Created'];

function progressCell(progress) {
  const total = progress?.total ?? 0;
  if (!total) return h('span', { class: 'muted' }, 'Not started');
  const finished = (progress.done ?? 0) + (progress.failed ?? 0);
  return h('div', { class: 'lab-mini-progress' },
    h('progress', { max: String(total), value: String(finished), 'aria-label': `${finished} of ${total} finished` }),
    h('span', { class: 'small' }, `${integer(finished)} / ${integer(total)}${progress.failed ? ` (${integer(progress.failed)} failed)` : ''}`));
}

export async function render({ main, signal }) {
  const content = h('div', { class: 'table-wrap table-reserve' }, h('div', { class: 'loading-block', role: 'status' }, 'Loading experiments…'));
  const create = h('a', { class: 'button button-primary', href: '/studio/experiments/_new' }, 'New experiment');
  main.append(pageHeader('Experiments', {
    subtitle: 'A dataset run on several models and deployments, every answer scored: quality, cost and latency side by side.',
    actions: [create],
  }), content);
  let experiments;
  try {
    experiments = await listAll('/v2/experiments', signal);
  } catch (error) {
    if (error.name === 'AbortError') return;
    replace(content, notice('error', `The experiments could not be loaded. ${error.message}`));
    return;
  }
  if (!experiments.length) {
    replace(content, emptyState('No experiments yet', 'Pick a dataset, the models and deployments to compare and the evaluators that score them.',
      h('a', { class: 'button button-primary', href: '/studio/experiments/_new' }, 'New experiment')));
    return;
  }
  replace(content, h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Experiments of this workspace'),
    h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col', class: c === 'Spend' ? 'num' : null }, c)))),
    h('tbody', null, experiments.map((experiment) => h('tr', null,
      h('td', null, h('a', { class: 'strong-link', href: `/studio/experiments/${encodeURIComponent(experiment.id)}` }, experiment.name)),
      h('td', null, experimentStatus(experiment.status)),
      h('td', null, h('ul', { class: 'lab-target-list' }, experiment.targets.map((target) => h('li', null, h('code', null, target.label))))),
      h('td', null, progressCell(experiment.progress)),
      h('td', { class: 'num' }, money(experiment.progress?.spend_usd ?? 0)),
      h('td', { title: dateTime(experiment.created_at) }, relativeTime(experiment.created_at)))))));
}
