// Create or change an evaluator: its kind and that kind's fields, and a Test panel that scores a
// sample answer with the definition as it stands in the form, before anything is saved.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { field, selectInput, textArea, textInput, toggle } from '../forms.js';
import { KINDS, KIND_FIELDS, KIND_HELP, NEEDS_EXPECTED, evaluatorBody, fieldOfParam, formValues } from '../evaluator-kinds.js';
import { clearOnEdit, enabledModels, scoreBadge, scoreNumber } from '../lab-shared.js';
import { allDeployments } from './deployments.js';
import { notice, pageHeader, setFlash } from '../ui.js';

const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const JUDGE_TEMPLATE = 'You grade an answer to a question.\nQuestion: {{input}}\nAnswer: {{output}}\nReference answer: {{expected}}\nDoes the answer agree with the reference?';

function numberInput(placeholder, inputmode = 'decimal') {
  return textInput({ type: 'text', placeholder, inputmode });
}

function buildFields() {
  const fields = {
    key: field({ name: 'key', label: 'Key', required: true, control: textInput({ placeholder: 'mentions-refund' }), hint: 'Letters, digits, “_”, “.” or “-”. Experiments show it.' }),
    description: field({ name: 'description', label: 'Description', control: textInput({ placeholder: 'What it checks' }) }),
    kind: field({ name: 'kind', label: 'Kind', marked: false, required: true, control: selectInput(KINDS, { value: 'exact_match' }) }),
    keywords: field({ name: 'keywords', label: 'Keywords', required: true, control: textArea({ rows: 3, placeholder: 'refund\nmoney back' }), hint: 'One per line.' }),
    match: field({ name: 'match', label: 'Passes when the answer contains', marked: false, control: selectInput([['any', 'Any keyword'], ['all', 'Every keyword']], { value: 'any' }) }),
    pattern: field({ name: 'pattern', label: 'Pattern', required: true, control: textInput({ placeholder: '^\\d{4}-\\d{2}-\\d{2}$' }) }),
    schema: field({ name: 'schema', label: 'JSON schema', required: true, control: textArea({ rows: 8, placeholder: '{"type": "object", "required": ["answer"]}' }) }),
    min_length: field({ name: 'min_length', label: 'Minimum length', required: true, control: numberInput('0', 'numeric'), hint: 'In characters.' }),
    max_length: field({ name: 'max_length', label: 'Maximum length', required: true, control: numberInput('500', 'numeric'), hint: 'In characters.' }),
    embedding_model: field({ name: 'embedding_model', label: 'Embedding model', required: true, control: selectInput([], { placeholder: 'Choose a model' }), hint: 'An embedding model of this workspace.' }),
    similarity_threshold: field({ name: 'similarity_threshold', label: 'Pass threshold', control: numberInput('0.8'), hint: 'Cosine similarity from -1 to 1 that passes; empty: a score only.' }),
    judge_model: field({ name: 'judge_model', label: 'Judge model or deployment', required: true, control: selectInput([], { placeholder: 'Choose a judge' }) }),
    prompt: field({ name: 'prompt', label: 'Judge prompt', required: true, control: textArea({ rows: 6, value: JUDGE_TEMPLATE }), hint: 'May use {{input}}, {{output}} and {{expected}}. The judge must answer a score and a reason.' }),
    judge_output: field({ name: 'judge_output', label: 'The judge gives', marked: false, control: selectInput([['boolean', 'Pass or fail'], ['number', 'A number']], { value: 'boolean' }) }),
    judge_min: field({ name: 'judge_min', label: 'Lowest score', control: numberInput('1'), hint: 'Default 1.' }),
    judge_max: field({ name: 'judge_max', label: 'Highest score', control: numberInput('5'), hint: 'Default 5.' }),
    judge_threshold: field({ name: 'judge_threshold', label: 'Pass threshold', control: numberInput('3'), hint: 'Empty: a score only.' }),
    url: field({ name: 'url', label: 'Scorer URL', required: true, control: textInput({ type: 'url', placeholder: 'https://scorer.internal/score' }), hint: 'The same address rules as for upstreams apply.' }),
    headers: field({ name: 'headers', label: 'Headers', control: textArea({ rows: 2, placeholder: 'Authorization: Bearer …' }), hint: 'One “Name: value” per line; values are never shown back.' }),
    timeout_ms: field({ name: 'timeout_ms', label: 'Timeout (ms)', control: numberInput('10000', 'numeric') }),
    http_output: field({ name: 'http_output', label: 'The scorer gives', marked: false, control: selectInput([['boolean', 'Pass or fail'], ['number', 'A number']], { value: 'boolean' }) }),
  };
  for (const name of ['schema', 'pattern', 'prompt', 'headers']) fields[name].control.classList.add('input-mono');
  clearOnEdit(Object.values(fields));
  const toggles = {
    ignore_case: toggle({ name: 'ignore_case', label: 'Ignore case' }),
    normalize_whitespace: toggle({ name: 'normalize_whitespace', label: 'Ignore differences in spaces and line breaks' }),
  };
  return { fields, toggles };
}

function testPanel(getDefinition, showFieldError) {
  const sample = {
    sample_input: field({ name: 'sample_input', label: 'Input', control: textArea({ rows: 2, placeholder: 'What is the capital of France?' }), hint: 'What was asked.' }),
    sample_output: field({ name: 'sample_output', label: 'Output', required: true, control: textArea({ rows: 3, placeholder: 'Paris' }), hint: 'The answer to score.' }),
    sample_expected: field({ name: 'sample_expected', label: 'Expected output', control: textArea({ rows: 2, placeholder: 'Paris' }), hint: 'The reference answer.' }),
  };
  const run = h('button', { type: 'button', class: 'button' }, 'Test');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const result = h('div', { class: 'lab-test-result', 'aria-live': 'polite' });
  clearOnEdit(Object.values(sample));
  run.addEventListener('click', async () => {
    for (const item of Object.values(sample)) item.setError('');
    replace(result);
    const definition = getDefinition();
    if (!definition) {
      status.textContent = 'Fix the fields marked above first.';
      return;
    }
    const output = sample.sample_output.control.value;
    if (!output) {
      sample.sample_output.setError('Enter an answer to score.');
      sample.sample_output.control.focus();
      return;
    }
    const expected = sample.sample_expected.control.value;
    if (NEEDS_EXPECTED.has(definition.kind) && !expected) {
      sample.sample_expected.setError('This kind compares with the expected output: enter one.');
      sample.sample_expected.control.focus();
      return;
    }
    const body = { ...definition.body, sample: { input: sample.sample_input.control.value || null, output, expected: expected || null } };
    run.disabled = true;
    status.textContent = 'Scoring…';
    try {
      const score = await api('/v2/evaluators/test', { method: 'POST', body });
      status.textContent = '';
      if (score.error) {
        replace(result, notice('warning', `The evaluator could not score this answer: ${score.error}`));
      } else {
        const verdict = score.passed === true ? 'Passed' : score.passed === false ? 'Failed' : 'Scored';
        replace(result, h('div', { class: 'lab-score-result' },
          h('p', { class: 'lab-score-line' }, scoreBadge({ ...score, key: null }, { withKey: false }), ' ', h('span', { class: 'strong' }, `${verdict}: score ${scoreNumber(score.value)}`)),
          score.reason ? h('p', null, h('span', { class: 'muted' }, 'Reason: '), score.reason) : null));
      }
    } catch (error) {
      status.textContent = '';
      const name = fieldOfParam(error.param);
      if (name && sample[name]) {
        sample[name].setError(error.message);
        sample[name].control.focus();
      } else if (name && showFieldError(name, error.message)) {
        replace(result, notice('error', 'The definition was refused: see the marked field.'));
      } else {
        replace(result, notice('error', `The test failed. ${error.message}`));
      }
    } finally {
      run.disabled = false;
    }
  });
  return h('section', { class: 'card side-panel', 'aria-labelledby': 'test-title' },
    h('h2', { id: 'test-title' }, 'Test before saving'),
    h('p', { class: 'section-description' }, 'Scores a sample with the definition as it is in the form. A judge’s or an embedding model’s call is made and counted in usage.'),
    Object.values(sample).map((item) => item.el),
    h('div', { class: 'form-actions' }, run, status), result);
}

export async function render({ main, params, signal, navigate, setTitle }) {
  const editing = params.id && params.id !== '_new' ? params.id : null;
  const { fields, toggles } = buildFields();
  let stored = null;
  const errorSlot = h('div', { class: 'error-slot' });
  const [models, deployments] = await Promise.all([
    enabledModels(signal).catch(() => []),
    allDeployments(signal).catch(() => []),
  ]);
  if (signal.aborted) return;
  for (const model of models.filter((m) => m.model_type === 'embedding')) fields.embedding_model.control.append(h('option', { value: model.router_id }, model.router_id));
  const chat = models.filter((m) => m.model_type === 'chat');
  fields.judge_model.control.append(
    h('optgroup', { label: 'Chat models' }, chat.map((m) => h('option', { value: m.router_id }, m.router_id))),
    deployments.length ? h('optgroup', { label: 'Deployments' }, deployments.map((d) => h('option', { value: `deployment/${d.key}` }, `deployment/${d.key}`))) : null);
  if (!chat.length && !deployments.length) fields.judge_model.setHint('This workspace has no chat model or deployment yet: add one under Models.');
  if (!models.some((m) => m.model_type === 'embedding')) fields.embedding_model.setHint('This workspace has no embedding model yet: add one under Models.');

  if (editing) {
    try {
      stored = await api(`/v2/evaluators/${encodeURIComponent(editing)}`, { signal });
    } catch (error) {
      if (error.name === 'AbortError') return;
      main.append(pageHeader('Evaluator', { breadcrumb: h('a', { href: '/studio/evaluators' }, 'Evaluators') }),
        notice('error', error.status === 404 ? 'There is no such evaluator in this workspace.' : `The evaluator could not be loaded. ${error.message}`));
      return;
    }
    setTitle(stored.key);
    for (const [name, value] of Object.entries(formValues(stored))) {
      if (toggles[name]) toggles[name].control.checked = Boolean(value);
      else if (fields[name]) fields[name].control.value = value === null || value === undefined ? '' : String(value);
    }
  }

  const help = h('p', { class: 'section-description', id: 'kind-help' });
  const kindGroups = h('div', { class: 'lab-kind-fields grid-2' },
    ['keywords', 'match', 'pattern', 'schema', 'min_length', 'max_length', 'embedding_model', 'similarity_threshold', 'judge_model',
      'judge_output', 'prompt', 'judge_min', 'judge_max', 'judge_threshold', 'url', 'timeout_ms', 'headers', 'http_output']
      .map((name) => { if (['schema', 'prompt', 'headers'].includes(name)) fields[name].el.classList.add('field-wide'); return fields[name].el; }),
    h('div', { class: 'lab-toggles field-wide' }, toggles.ignore_case.el, toggles.normalize_whitespace.el));
  const kind = () => fields.kind.control.value;
  const showKind = () => {
    const shown = new Set(KIND_FIELDS[kind()]);
    for (const [name, item] of Object.entries({ ...fields, ...toggles })) {
      if (['key', 'description', 'kind'].includes(name)) continue;
      let visible = shown.has(name);
      if (['judge_min', 'judge_max', 'judge_threshold'].includes(name)) visible &&= fields.judge_output.control.value === 'number';
      item.el.hidden = !visible;
    }
    help.textContent = KIND_HELP[kind()];
  };
  fields.kind.control.addEventListener('change', showKind);
  fields.judge_output.control.addEventListener('change', showKind);
  showKind();

  const values = () => {
    const found = {};
    for (const [name, item] of Object.entries(fields)) found[name] = item.control.value;
    for (const [name, item] of Object.entries(toggles)) found[name] = item.control.checked;
    return found;
  };
  const showFieldError = (name, message) => {
    const item = fields[name];
    if (!item || item.el.hidden) return false;
    item.setError(message);
    item.control.focus();
    return true;
  };
  /** The body as the form has it, or null after marking what is wrong. */
  const definition = ({ withKey }) => {
    for (const item of Object.values(fields)) item.setError('');
    const { errors, body } = evaluatorBody(kind(), values());
    const key = fields.key.control.value.trim();
    if (withKey) {
      if (!key) errors.key = 'Enter a key.';
      else if (key.length > 128 || !KEY_PATTERN.test(key)) errors.key = 'Use letters, digits, “_”, “.” or “-”, starting with a letter or digit (at most 128).';
    }
    const wrong = Object.entries(errors);
    if (wrong.length) {
      for (const [name, message] of wrong) fields[name]?.setError(message);
      fields[wrong[0][0]]?.control.focus();
      return null;
    }
    return { kind: kind(), body: withKey ? { key, ...body } : body };
  };

  const submit = h('button', { type: 'submit', class: 'button button-primary' }, editing ? 'Save as new version' : 'Create evaluator');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const form = h('form', { class: 'form', novalidate: true, 'aria-label': editing ? `Edit ${stored.key}` : 'New evaluator' },
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Evaluator'),
      h('div', { class: 'grid-2' }, fields.key.el, fields.kind.el), fields.description.el),
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Configuration'), help, kindGroups),
    errorSlot,
    h('div', { class: 'form-actions' }, submit, h('a', { class: 'button button-quiet', href: '/studio/evaluators' }, 'Cancel'), status));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorSlot);
    const made = definition({ withKey: true });
    if (!made) {
      status.textContent = 'Some fields need attention.';
      return;
    }
    submit.disabled = true;
    status.textContent = 'Saving…';
    try {
      const saved = editing
        ? await api(`/v2/evaluators/${encodeURIComponent(stored._id)}`, { method: 'PATCH', body: made.body })
        : await api('/v2/evaluators', { method: 'POST', body: made.body });
      setFlash('success', editing ? `${saved.key} is at version ${saved.version}.` : `The evaluator ${saved.key} was created.`);
      navigate('/evaluators');
    } catch (error) {
      status.textContent = '';
      const name = fieldOfParam(error.param);
      if (!(name && showFieldError(name, error.message))) replace(errorSlot, notice('error', `The evaluator was not saved. ${error.message}`));
    } finally {
      submit.disabled = false;
    }
  });

  main.append(
    pageHeader(editing ? `Edit ${stored.key}` : 'New evaluator', {
      breadcrumb: h('a', { href: '/studio/evaluators' }, 'Evaluators'),
      subtitle: editing ? `Version ${stored.version}. Saving a change makes a new version; experiments keep the version they scored with.` : 'Choose how answers are scored, try it on a sample, then save it.',
    }),
    h('div', { class: 'with-side-panel' }, form, testPanel(() => definition({ withKey: false }), showFieldError)));
}
