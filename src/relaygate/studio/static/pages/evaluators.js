// Evaluators: how answers are scored (kind, what it returns, version), with create and delete.

import { send } from '../api.js';
import { h, replace } from '../dom.js';
import { dateTime, relativeTime } from '../format.js';
import { KIND_WORDS } from '../evaluator-kinds.js';
import { listAll } from '../lab-shared.js';
import { badge, confirmDialog, emptyState, notice, pageHeader } from '../ui.js';

const COLUMNS = ['Key', 'Kind', 'Score', 'Version', 'Updated', 'Actions'];

export async function render({ main, signal }) {
  const errorSlot = h('div', { class: 'error-slot' });
  const content = h('div', { class: 'table-wrap table-reserve' }, h('div', { class: 'loading-block', role: 'status' }, 'Loading evaluators…'));
  const create = h('a', { class: 'button button-primary', href: '/studio/evaluators/_new' }, 'Create evaluator');
  main.append(
    pageHeader('Evaluators', {
      subtitle: 'How an answer is scored: exact or partial matches, JSON checks, similarity through an embedding model, an LLM judge, or your own HTTP scorer.',
      actions: [create],
    }),
    errorSlot, content);

  let evaluators = [];
  const draw = () => {
    if (!evaluators.length) {
      replace(content, emptyState('No evaluators yet', 'Create one, try it on a sample answer, then pick it when you create an experiment.',
        h('a', { class: 'button button-primary', href: '/studio/evaluators/_new' }, 'Create evaluator')));
      return;
    }
    replace(content, h('table', { class: 'table' },
      h('caption', { class: 'visually-hidden' }, 'Evaluators of this workspace'),
      h('thead', null, h('tr', null, COLUMNS.map((c) => h('th', { scope: 'col', class: c === 'Version' ? 'num' : c === 'Actions' ? 'actions-cell' : null }, c)))),
      h('tbody', null, evaluators.map((evaluator) => {
        const remove = h('button', { type: 'button', class: 'button button-small button-danger-quiet', 'aria-label': `Delete ${evaluator.key}` }, 'Delete');
        remove.addEventListener('click', async () => {
          const confirmed = await confirmDialog({
            title: `Delete ${evaluator.key}?`, message: 'Its versions are deleted with it. Experiments that used it keep their scores.',
            confirmLabel: 'Delete evaluator', danger: true,
          });
          if (!confirmed) return;
          try {
            await send(`/v2/evaluators/${encodeURIComponent(evaluator._id)}`, { method: 'DELETE' });
            evaluators = evaluators.filter((other) => other._id !== evaluator._id);
            draw();
            replace(errorSlot, notice('success', `${evaluator.key} was deleted.`));
          } catch (error) {
            replace(errorSlot, notice('error', `The evaluator was not deleted. ${error.message}`));
          }
        });
        return h('tr', null,
          h('td', null, h('a', { class: 'strong-link', href: `/studio/evaluators/${encodeURIComponent(evaluator._id)}` }, h('code', null, evaluator.key)),
            evaluator.description ? h('p', { class: 'muted small' }, evaluator.description) : null),
          h('td', null, KIND_WORDS[evaluator.kind] ?? evaluator.kind),
          h('td', null, evaluator.output_type === 'number' ? badge('Number', 'info') : badge('Pass / fail', 'neutral')),
          h('td', { class: 'num' }, `v${evaluator.version}`),
          h('td', { title: dateTime(evaluator.updated) }, relativeTime(evaluator.updated)),
          h('td', { class: 'actions-cell' }, remove));
      }))));
  };
  try {
    evaluators = await listAll('/v2/evaluators', signal);
  } catch (error) {
    if (error.name === 'AbortError') return;
    replace(content, notice('error', `The evaluators could not be loaded. ${error.message}`));
    return;
  }
  draw();
}
