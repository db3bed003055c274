// One model: what it is, its last validation, code to call it; and the edit form (mode 'edit').

import { api, send, sendWithProgress } from '../api.js';
import { checklist } from '../checks.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, money, relativeTime } from '../format.js';
import { healthBadge, healthCard } from '../health-view.js';
import { CAPABILITIES, createBody, patchBody, regionLabel, typeLabel, valuesFromModel } from '../model-rules.js';
import { modelForm } from '../model-form.js';
import { snippets } from '../snippets.js';
import { badge, codeBlock, confirmDialog, copyButton, emptyState, notice, pageHeader, setFlash, statusBadge, tabs } from '../ui.js';
import { priceText } from './models.js';

const modelPath = (id) => `/v2/models/${encodeURIComponent(id)}`;
const editPath = (id) => `/v2/models/openai-like/${encodeURIComponent(id)}`;
const studioPath = (id) => `/studio/models/${encodeURIComponent(id)}`;

function definitionList(rows) {
  return h('dl', { class: 'definitions' }, rows.map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? DASH)]));
}

function breadcrumb(model, last) {
  return [h('a', { href: '/studio/models' }, 'Models'), ' / ',
    last ? h('a', { href: studioPath(model.id) }, model.display_name) : h('span', { 'aria-current': 'page' }, model.display_name),
    last ? [' / ', h('span', { 'aria-current': 'page' }, last)] : null];
}

function capabilityList(model) {
  const values = valuesFromModel(model);
  return h('ul', { class: 'capability-list' }, CAPABILITIES.map((cap) => h('li', { class: values[cap.name] ? 'cap-on' : 'cap-off' },
    h('span', { 'aria-hidden': 'true' }, values[cap.name] ? '✓ ' : '– '),
    cap.label,
    h('span', { class: 'visually-hidden' }, values[cap.name] ? ': supported' : ': not supported'))));
}

function codeCard(model) {
  const code = snippets({ origin: location.origin, routerId: model.router_id, modelType: model.model_type });
  return h('section', { class: 'card', 'aria-labelledby': 'code-title' },
    h('h2', { id: 'code-title' }, 'Call it through the router'),
    h('p', { class: 'muted' }, 'Use a router key from ', h('a', { href: '/studio/keys' }, 'API keys'),
      ' as RELAYGATE_API_KEY, and ', h('code', null, model.router_id), ' as the model.'),
    tabs([
      { label: 'curl', content: codeBlock(code.curl, 'curl') },
      { label: 'Python', content: codeBlock(code.python, 'Python') },
      { label: 'TypeScript', content: codeBlock(code.typescript, 'TypeScript') },
    ], { label: 'Language' }));
}

function overview(model) {
  const metadata = model.metadata ?? {};
  const configuration = model.configuration ?? {};
  return [
    h('section', { class: 'card', 'aria-labelledby': 'connection-title' },
      h('h2', { id: 'connection-title' }, 'Connection'),
      definitionList([
        ['Type', typeLabel(model.model_type)],
        ['Base URL', h('code', { class: 'break' }, configuration.base_url ?? DASH)],
        ['API key', h('code', null, configuration.api_key_hint ?? DASH)],
        ['Model ID', h('code', null, model.model_id)],
        ['Provider', model.provider],
        ['Region', regionLabel(configuration.region) || DASH],
      ])),
    h('section', { class: 'card', 'aria-labelledby': 'defaults-title' },
      h('h2', { id: 'defaults-title' }, 'Defaults and prices'),
      definitionList([
        ['Max tokens', metadata.max_tokens ?? DASH],
        ['Temperature', metadata.temperature ?? DASH],
        ['Input price', typeof model.input_cost === 'number' ? `${money(model.input_cost)} per 1M tokens` : DASH],
        ['Output price', typeof model.output_cost === 'number' ? `${money(model.output_cost)} per 1M tokens` : DASH],
        model.model_type === 'image' ? ['Price per image', money(metadata.cost_per_image)] : null,
      ].filter(Boolean)),
      h('h3', null, 'Capabilities'),
      capabilityList(model)),
    h('section', { class: 'card', 'aria-labelledby': 'about-title' },
      h('h2', { id: 'about-title' }, 'About'),
      definitionList([
        ['Description', model.description || DASH],
        ['Created', dateTime(model.created)],
        ['Updated', dateTime(model.updated)],
        ['Model object id', h('code', null, model.id)],
      ])),
  ];
}

/** A validation is the result of one past check: its status with when it ran (the Health card is live). */
function validationStatus(status, validation) {
  const when = validation?.validated_at;
  replace(status, statusBadge(validation?.status),
    when ? h('span', { class: 'muted' }, ' checked ', h('time', { datetime: when, title: dateTime(when) }, relativeTime(when)), ` (${dateTime(when)})`) : null,
    validation?.status ? h('p', { class: 'validation-note' }, 'The result of that check, kept until the next one. The Health card shows how the model is doing now.') : null);
}

function validationCard(model, signal) {
  const checks = checklist();
  const status = h('div', { class: 'validation-status' });
  const button = h('button', { type: 'button', class: 'button' }, 'Re-validate');
  const showReport = (validation) => {
    validationStatus(status, validation);
    checks.show(validation);
  };
  showReport(model.metadata?.validation);
  button.addEventListener('click', async () => {
    button.disabled = true;
    button.textContent = 'Validating…';
    checks.start();
    try {
      const updated = await sendWithProgress(`${modelPath(model.id)}/validate`, {
        method: 'POST', signal, onEvent: (progress) => { if (progress.event === 'check') checks.update(progress.data); },
      });
      const validation = updated?.metadata?.validation;
      validationStatus(status, validation);
      checks.finish(validation);
    } catch (error) {
      if (error?.name === 'AbortError') return;
      if (error.validation) validationStatus(status, error.validation);
      checks.fail(error);
    } finally {
      button.disabled = false;
      button.textContent = 'Re-validate';
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'validation-title' },
    h('div', { class: 'card-header' }, h('h2', { id: 'validation-title' }, 'Last validation'), button),
    status, checks.el);
}

async function toggleEnabled(model) {
  return api(editPath(model.id), {
    method: 'PATCH',
    body: { display_name: model.display_name, model_type: model.model_type, region: model.configuration?.region, enabled: !model.enabled },
  });
}

async function deleteModel(model, navigate, errorSlot) {
  const confirmed = await confirmDialog({
    title: `Delete ${model.display_name}?`,
    message: [h('p', null, 'Calls to ', h('code', null, model.router_id), ' will fail at once. Usage already recorded is kept.'),
      h('p', null, 'This cannot be undone.')],
    confirmLabel: 'Delete model',
    danger: true,
  });
  if (!confirmed) return;
  try {
    await send(modelPath(model.id), { method: 'DELETE' });
    setFlash('success', `${model.display_name} was deleted.`);
    navigate('/models');
  } catch (error) {
    replace(errorSlot, notice('error', `The model was not deleted. ${error.message}`));
  }
}

function renderView(ctx, model) {
  const { main, navigate, signal } = ctx;
  const errorSlot = h('div', { class: 'error-slot' });
  const enableButton = h('button', { type: 'button', class: 'button' }, model.enabled === false ? 'Enable' : 'Disable');
  const deleteButton = h('button', { type: 'button', class: 'button button-danger-quiet' }, 'Delete');
  enableButton.addEventListener('click', async () => {
    enableButton.disabled = true;
    try {
      const updated = await toggleEnabled(model);
      setFlash('success', `${updated.display_name} is now ${updated.enabled === false ? 'disabled: the router refuses calls to it' : 'enabled'}.`);
      navigate(`/models/${encodeURIComponent(model.id)}`, { replace: true });
    } catch (error) {
      enableButton.disabled = false;
      replace(errorSlot, notice('error', `The model was not ${model.enabled === false ? 'enabled' : 'disabled'}. ${error.message}`));
    }
  });
  deleteButton.addEventListener('click', () => deleteModel(model, navigate, errorSlot));

  const routerId = h('span', { class: 'router-id' }, 'Router id ', h('code', { id: 'router-id' }, model.router_id),
    ' ', copyButton(() => model.router_id, { label: 'Copy', describedBy: 'router-id', className: 'button button-small button-quiet' }));
  const actions = [
    model.model_type === 'chat' && model.enabled !== false
      ? h('a', { class: 'button', href: `/studio/playground?model=${encodeURIComponent(model.router_id)}` }, 'Open in Playground') : null,
    h('a', { class: 'button', href: `${studioPath(model.id)}/edit` }, 'Edit'),
    enableButton,
    deleteButton,
  ].filter(Boolean);
  main.append(
    pageHeader(model.display_name, { breadcrumb: breadcrumb(model), actions }),
    h('div', { class: 'header-meta' }, routerId,
      model.enabled === false ? badge('Disabled', 'neutral') : badge('Enabled', 'success'),
      model.health ? h('span', { class: 'health-meta' }, h('span', { class: 'visually-hidden' }, 'Health: '), healthBadge(model.health.state)) : null,
      badge(typeLabel(model.model_type), 'info'),
      h('span', { class: 'muted' }, priceText(model))),
    errorSlot,
    h('div', { class: 'detail-grid' },
      h('div', { class: 'detail-main' }, overview(model)),
      h('div', { class: 'detail-side' }, healthCard(model, signal), validationCard(model, signal))),
    codeCard(model));
}

function renderEdit(ctx, model) {
  const { main, navigate, signal } = ctx;
  const initial = valuesFromModel(model);
  const original = createBody(initial);
  const form = modelForm({ values: initial, mode: 'edit', apiKeyHint: model.configuration?.api_key_hint });
  const checks = checklist({ idle: 'Saving a change to the base URL, API key, model ID or type validates the connection again.' });
  // As on Add model: the submit button after the validation steps (tied to the form by its id).
  const submit = h('button', { type: 'submit', class: 'button button-primary', form: 'edit-model-form' }, 'Save changes');
  const formStatus = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const formEl = h('form', { id: 'edit-model-form', class: 'form', novalidate: true, 'aria-label': `Edit ${model.display_name}` }, form.el);

  main.append(
    pageHeader(`Edit ${model.display_name}`, { breadcrumb: breadcrumb(model, 'Edit') }),
    h('div', { class: 'with-side-panel model-form-layout' }, formEl,
      h('aside', { class: 'side-panel', 'aria-labelledby': 'validation-title' },
        h('div', { class: 'card' }, h('h2', { id: 'validation-title' }, 'Validation'), checks.el)),
      h('div', { class: 'model-form-footer' },
        h('div', { class: 'form-actions' }, submit, h('a', { class: 'button', href: studioPath(model.id) }, 'Cancel'), formStatus))));

  formEl.addEventListener('input', () => { if (!submit.disabled) formStatus.textContent = ''; });
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.validate()) {
      formStatus.textContent = 'Some fields need attention.';
      return;
    }
    const body = patchBody(form.values(), original);
    const reprobe = ['base_url', 'api_key', 'model_id', 'model_type'].some((name) => name in body && body[name] !== original[name]);
    formStatus.textContent = reprobe ? '' : 'Saving…';
    form.lock(true);
    submit.disabled = true;
    if (reprobe) checks.start();
    try {
      const updated = await sendWithProgress(editPath(model.id), {
        method: 'PATCH', body, signal, onEvent: (progress) => { if (progress.event === 'check') checks.update(progress.data); },
      });
      if (reprobe) checks.finish(updated?.metadata?.validation);
      setFlash('success', reprobe ? `Saved. The connection of ${updated.display_name} was validated again.` : 'Changes saved.');
      navigate(`/models/${encodeURIComponent(model.id)}`);
    } catch (error) {
      if (error?.name === 'AbortError') return;
      form.lock(false);
      submit.disabled = false;
      if (error.validation || reprobe) checks.fail(error);
      if (form.setServerError(error)) form.fields[error.param].control.focus();
      formStatus.textContent = `Not saved. ${error.validation ? 'Validation failed; your entries are kept.' : error.message}`;
    }
  });
}

export async function render(ctx) {
  const { main, params, signal, mode, setTitle } = ctx;
  let model;
  try {
    model = await api(modelPath(params.id), { signal });
  } catch (error) {
    if (error.name === 'AbortError') return;
    main.append(pageHeader('Model'));
    if (error.status === 404) {
      main.append(emptyState('This model does not exist', 'It may have been deleted.',
        h('a', { class: 'button', href: '/studio/models' }, 'Back to Models')));
    } else {
      main.append(notice('error', `The model could not be loaded. ${error.message}`));
    }
    return;
  }
  setTitle(mode === 'edit' ? `Edit ${model.display_name}` : model.display_name);
  if (mode === 'edit') renderEdit(ctx, model);
  else renderView(ctx, model);
}
