// A new experiment: a dataset, the targets to compare (models, deployments at a version), the
// evaluators that score every answer, concurrency and a budget; saved as a draft or started.

import { api } from '../api.js';
import { h, replace, uid } from '../dom.js';
import { plural } from '../format.js';
import { field, selectInput, textInput } from '../forms.js';
import { KIND_WORDS } from '../evaluator-kinds.js';
import { clearOnEdit, enabledModels, listAll } from '../lab-shared.js';
import { allDeployments } from './deployments.js';
import { emptyState, notice, pageHeader, setFlash } from '../ui.js';

const MAX_TARGETS = 10;

function targetRow(number, { models, deployments }, onRemove) {
  const kind = field({ name: 'target_kind', label: 'Kind', marked: false, control: selectInput([['model', 'Model'], ['deployment', 'Deployment']], { value: 'model' }) });
  const model = field({ name: 'model', label: 'Model', required: true, control: selectInput(models.map((m) => [m.router_id, m.router_id]), { placeholder: 'Choose a model' }) });
  const deployment = field({ name: 'deployment', label: 'Deployment', required: true, control: selectInput(deployments.map((d) => [d.key, d.display_name && d.display_name !== d.key ? `${d.display_name} (${d.key})` : d.key]), { placeholder: 'Choose a deployment' }) });
  const version = field({ name: 'version', label: 'Version', control: textInput({ type: 'number', inputmode: 'numeric', placeholder: 'Current' }), hint: 'Empty: the current version at each call.' });
  version.control.min = '1';
  const legendId = uid('target');
  const remove = h('button', { type: 'button', class: 'button button-small button-quiet', 'aria-label': `Remove target ${number}` }, 'Remove');
  remove.addEventListener('click', onRemove);
  const el = h('li', { class: 'list-item' }, h('fieldset', { class: 'list-item-fields', 'aria-labelledby': legendId },
    h('legend', { class: 'list-item-legend', id: legendId }, `Target ${number}`),
    h('div', { class: 'list-item-tools' }, remove),
    h('div', { class: 'lab-target-grid' }, kind.el, model.el, deployment.el, version.el)));
  const show = () => {
    const isModel = kind.control.value === 'model';
    model.el.hidden = !isModel;
    deployment.el.hidden = isModel;
    version.el.hidden = isModel;
    const chosen = deployments.find((d) => d.key === deployment.control.value);
    const latest = chosen ? chosen.version_number ?? Number.parseInt(String(chosen.version ?? '').replace(/^v/, ''), 10) : null;
    if (Number.isFinite(latest)) {
      version.control.max = String(latest);
      version.setHint(`Empty: the current version (now v${latest}) at each call; or 1 to ${latest}.`);
    }
  };
  kind.control.addEventListener('change', show);
  deployment.control.addEventListener('change', show);
  clearOnEdit([kind, model, deployment, version]);
  show();
  return {
    el, remove, fields: { kind, model, deployment, version },
    value() {
      const errors = {};
      let target = null;
      if (kind.control.value === 'model') {
        if (!model.control.value) errors.model = 'Choose a model.';
        else target = { model: model.control.value };
      } else if (!deployment.control.value) {
        errors.deployment = 'Choose a deployment.';
      } else {
        target = { deployment: deployment.control.value };
        const text = version.control.value.trim();
        if (text) {
          const n = Number(text);
          if (!Number.isInteger(n) || n < 1) errors.version = 'Enter a version number (1 or more), or leave it empty.';
          else target.version = n;
        }
      }
      return { errors, target };
    },
  };
}

export async function render({ main, query: params, signal, navigate }) {
  const header = pageHeader('New experiment', {
    breadcrumb: h('a', { href: '/studio/experiments' }, 'Experiments'),
    subtitle: 'Every datapoint goes to every target through the router (its limits and usage apply), and every evaluator scores every answer.',
  });
  main.append(header);
  let datasets; let models; let deployments; let evaluators;
  try {
    [datasets, models, deployments, evaluators] = await Promise.all([
      listAll('/v2/datasets', signal), enabledModels(signal, ['chat']), allDeployments(signal), listAll('/v2/evaluators', signal, { extra: { sort: 'asc' } }),
    ]);
  } catch (error) {
    if (error.name === 'AbortError') return;
    main.append(notice('error', `The choices could not be loaded. ${error.message}`));
    return;
  }
  if (!datasets.length || (!models.length && !deployments.length)) {
    main.append(emptyState('Nothing to run yet', 'An experiment needs a dataset with datapoints and at least one chat model or deployment.',
      h('div', { class: 'form-actions' }, h('a', { class: 'button', href: '/studio/datasets' }, 'Datasets'), h('a', { class: 'button', href: '/studio/models' }, 'Models'))));
    return;
  }

  const fields = {
    name: field({ name: 'name', label: 'Name', required: true, control: textInput({ placeholder: 'gpt-test vs private model' }) }),
    dataset_id: field({
      name: 'dataset_id', label: 'Dataset', required: true,
      control: selectInput(datasets.map((d) => [d._id, `${d.display_name} (${plural(d.metadata?.datapoints_count ?? 0, 'datapoint')})`]), { placeholder: 'Choose a dataset', value: params.get('dataset') ?? '' }),
    }),
    concurrency: field({ name: 'concurrency', label: 'Concurrency', control: textInput({ type: 'number', value: '4', inputmode: 'numeric' }), hint: 'Calls in flight per target, 1 to 32.' }),
    budget_usd: field({ name: 'budget_usd', label: 'Budget (USD)', control: textInput({ type: 'number', inputmode: 'decimal', placeholder: 'No budget' }), hint: 'The run stops when its spend reaches it; what is done stays.' }),
    temperature: field({ name: 'temperature', label: 'Temperature', control: textInput({ type: 'number', inputmode: 'decimal', placeholder: 'The target’s own' }), hint: 'Sent with every generation, 0 to 2.' }),
    max_tokens: field({ name: 'max_tokens', label: 'Max tokens', control: textInput({ type: 'number', inputmode: 'numeric', placeholder: 'The target’s own' }), hint: 'Per answer.' }),
  };
  fields.budget_usd.control.step = 'any';
  clearOnEdit(Object.values(fields));
  fields.temperature.control.step = 'any';

  const list = h('ol', { class: 'ordered-list' });
  const targetsError = h('p', { class: 'field-error', role: 'alert' });
  const rows = [];
  const addButton = h('button', { type: 'button', class: 'button list-add' }, '+ Add target');
  const renumber = () => {
    rows.forEach((row, index) => {
      row.el.querySelector('legend').textContent = `Target ${index + 1}`;
      row.remove.setAttribute('aria-label', `Remove target ${index + 1}`);
      row.remove.hidden = rows.length === 1;
    });
    addButton.hidden = rows.length >= MAX_TARGETS;
  };
  const addTarget = (focus = true) => {
    const row = targetRow(rows.length + 1, { models, deployments }, () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      renumber();
      addButton.focus();
    });
    if (!models.length) row.fields.kind.control.value = 'deployment';
    row.fields.kind.control.dispatchEvent(new Event('change'));
    rows.push(row);
    list.append(row.el);
    renumber();
    if (focus) row.fields.kind.control.focus();
  };
  addButton.addEventListener('click', () => addTarget());
  addTarget(false);
  addTarget(false);
  if (models.length > 1) rows[1].fields.model.control.value = models[1].router_id;

  const evaluatorBoxes = evaluators.map((evaluator) => {
    const id = uid('evaluator');
    const box = h('input', { type: 'checkbox', id, value: evaluator._id, checked: false });
    return { evaluator, box, el: h('li', { class: 'checkbox-inline' }, box, h('label', { for: id }, h('code', null, evaluator.key), ` ${KIND_WORDS[evaluator.kind] ?? evaluator.kind}`)) };
  });
  const evaluatorsError = h('p', { class: 'field-error', role: 'alert' });

  const errorSlot = h('div', { class: 'error-slot' });
  const start = h('button', { type: 'submit', class: 'button button-primary', value: 'start' }, 'Create and start');
  const draft = h('button', { type: 'submit', class: 'button', value: 'draft' }, 'Save as draft');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': 'New experiment' },
    h('fieldset', { class: 'form-section' }, h('legend', null, 'What to run'), h('div', { class: 'grid-2' }, fields.name.el, fields.dataset_id.el)),
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Targets'),
      h('p', { class: 'section-description' }, 'The models and deployments to compare: each answers every datapoint.'),
      list, targetsError, addButton),
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Evaluators'),
      evaluators.length
        ? h('ul', { class: 'lab-check-list' }, evaluatorBoxes.map((item) => item.el))
        : h('p', { class: 'muted' }, 'No evaluators yet: answers are recorded without scores. ', h('a', { href: '/studio/evaluators/_new' }, 'Create an evaluator'), '.'),
      evaluatorsError),
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Run'),
      h('div', { class: 'grid-4' }, fields.concurrency.el, fields.budget_usd.el, fields.temperature.el, fields.max_tokens.el)),
    errorSlot,
    h('div', { class: 'form-actions' }, start, draft, status));

  const showServerError = (error) => {
    const param = String(error.param ?? '');
    const targetMatch = /^targets\[(\d+)\](?:\.(\w+))?/.exec(param);
    if (targetMatch && rows[Number(targetMatch[1])]) {
      const row = rows[Number(targetMatch[1])];
      const item = row.fields[targetMatch[2]] ?? (row.fields.kind.control.value === 'model' ? row.fields.model : row.fields.deployment);
      item.setError(error.message);
      item.control.focus();
      return;
    }
    if (param.startsWith('evaluators')) {
      evaluatorsError.textContent = error.message;
      evaluatorBoxes[0]?.box.focus();
      return;
    }
    const name = param.startsWith('parameters.') ? param.split('.')[1] : param;
    if (fields[name]) {
      fields[name].setError(error.message);
      fields[name].control.focus();
      return;
    }
    replace(errorSlot, notice('error', `The experiment was not created. ${error.message}`));
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const action = event.submitter?.value === 'draft' ? 'draft' : 'start';
    replace(errorSlot);
    targetsError.textContent = '';
    evaluatorsError.textContent = '';
    const errors = {};
    const text = (name) => fields[name].control.value.trim();
    if (!text('name')) errors.name = 'Enter a name for the experiment.';
    if (!text('dataset_id')) errors.dataset_id = 'Choose the dataset to run.';
    const concurrency = Number(text('concurrency') || '4');
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) errors.concurrency = 'Enter a whole number from 1 to 32.';
    if (text('budget_usd') && !(Number(text('budget_usd')) > 0)) errors.budget_usd = 'Enter an amount above 0 (USD), or leave it empty.';
    const temperature = Number(text('temperature'));
    if (text('temperature') && !(temperature >= 0 && temperature <= 2)) errors.temperature = 'Enter a number from 0 to 2, or leave it empty.';
    if (text('max_tokens') && !(Number.isInteger(Number(text('max_tokens'))) && Number(text('max_tokens')) >= 1)) errors.max_tokens = 'Enter a whole number of tokens, or leave it empty.';
    let first = null;
    for (const [name, item] of Object.entries(fields)) {
      item.setError(errors[name] ?? '');
      if (errors[name]) first ??= item.control;
    }
    const targets = [];
    for (const row of rows) {
      const { errors: rowErrors, target } = row.value();
      for (const [name, item] of Object.entries(row.fields)) {
        item.setError(rowErrors[name] ?? '');
        if (rowErrors[name]) first ??= item.control;
      }
      if (target) targets.push(target);
    }
    const labels = targets.map((t) => JSON.stringify(t));
    const repeated = labels.findIndex((label, index) => labels.indexOf(label) !== index);
    if (repeated >= 0) {
      targetsError.textContent = `Target ${repeated + 1} repeats another target: choose each model or deployment version once.`;
      first ??= rows[repeated].fields.kind.control;
    }
    if (first) {
      status.textContent = 'Some fields need attention.';
      first.focus();
      return;
    }
    const body = {
      name: text('name'), dataset_id: text('dataset_id'), targets, concurrency,
      evaluators: evaluatorBoxes.filter((item) => item.box.checked).map((item) => item.evaluator._id),
    };
    if (text('budget_usd')) body.budget_usd = Number(text('budget_usd'));
    const parameters = {};
    if (text('temperature')) parameters.temperature = temperature;
    if (text('max_tokens')) parameters.max_tokens = Number(text('max_tokens'));
    if (Object.keys(parameters).length) body.parameters = parameters;
    start.disabled = true;
    draft.disabled = true;
    status.textContent = action === 'start' ? 'Creating and starting…' : 'Saving…';
    try {
      const created = await api('/v2/experiments', { method: 'POST', body });
      if (action === 'start') {
        try {
          await api(`/v2/experiments/${encodeURIComponent(created.id)}/start`, { method: 'POST' });
          setFlash('success', `${created.name} was started.`);
        } catch (error) {
          setFlash('error', `${created.name} was saved as a draft but did not start. ${error.message}`);
        }
      } else {
        setFlash('success', `${created.name} was saved as a draft.`);
      }
      navigate(`/experiments/${encodeURIComponent(created.id)}`);
    } catch (error) {
      status.textContent = '';
      showServerError(error);
    } finally {
      start.disabled = false;
      draft.disabled = false;
    }
  });
  main.append(form);
}
