// Datasets: the workspace's test sets (name, datapoints, last change) and a form to create one.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { dateTime, integer, relativeTime } from '../format.js';
import { field, textInput } from '../forms.js';
import { clearOnEdit, listAll } from '../lab-shared.js';
import { emptyState, notice, pageHeader, setFlash } from '../ui.js';

const COLUMNS = ['Name', 'Datapoints', 'Updated'];

export const datasetPath = (id) => `/studio/datasets/${encodeURIComponent(id)}`;

function row(dataset) {
  return h('tr', null,
    h('td', null, h('a', { href: datasetPath(dataset._id), class: 'strong-link' }, dataset.display_name)),
    h('td', { class: 'num' }, integer(dataset.metadata?.datapoints_count ?? 0)),
    h('td', { title: dateTime(dataset.updated) }, relativeTime(dataset.updated)));
}

function createForm(navigate) {
  const name = field({
    name: 'display_name', label: 'Name', required: true, control: textInput({ placeholder: 'support-questions' }),
    hint: 'Then add datapoints: upload a CSV or JSONL file, type them, or take them from recorded traffic.',
  });
  clearOnEdit([name]);
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Create dataset');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'card lab-inline-form', novalidate: true, 'aria-labelledby': 'create-dataset-title' },
    h('h2', { id: 'create-dataset-title' }, 'Create a dataset'),
    h('div', { class: 'lab-form-row' }, name.el, h('div', { class: 'form-actions lab-row-actions' }, submit)),
    status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = name.control.value.trim();
    if (!value) {
      name.setError('Enter a name for the dataset.');
      name.control.focus();
      return;
    }
    if (value.length > 256) {
      name.setError(`Use at most 256 characters (this has ${value.length}).`);
      name.control.focus();
      return;
    }
    name.setError('');
    submit.disabled = true;
    status.textContent = 'Creating…';
    try {
      const created = await api('/v2/datasets', { method: 'POST', body: { display_name: value } });
      setFlash('success', `The dataset “${created.display_name}” was created. Add datapoints to it.`);
      navigate(datasetPath(created._id));
    } catch (error) {
      status.textContent = '';
      name.setError(error.message);
      name.control.focus();
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function render({ main, signal, navigate }) {
  const content = h('div', { class: 'table-wrap table-reserve' }, h('div', { class: 'loading-block', role: 'status' }, 'Loading datasets…'));
  main.append(
    pageHeader('Datasets', {
      subtitle: 'Test sets of inputs, messages and expected outputs: what experiments run on every target.',
    }),
    createForm(navigate),
    h('div', { class: 'section-header' }, h('h2', null, 'Datasets')),
    content);
  let datasets;
  try {
    datasets = await listAll('/v2/datasets', signal);
  } catch (error) {
    if (error.name === 'AbortError') return;
    replace(content, notice('error', `The datasets could not be loaded. ${error.message}`));
    return;
  }
  if (!datasets.length) {
    replace(content, emptyState('No datasets yet', 'Create one above, then upload a CSV or JSONL file, or turn recorded router calls into datapoints.'));
    return;
  }
  replace(content, h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Datasets of this workspace'),
    h('thead', null, h('tr', null, COLUMNS.map((name) => h('th', { scope: 'col', class: name === 'Datapoints' ? 'num' : null }, name)))),
    h('tbody', null, datasets.map(row))));
}
