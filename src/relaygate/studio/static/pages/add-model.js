// Add Model -> OpenAI-like: the form, then the live validation steps while the server probes the
// upstream. On failure the form stays filled and the error sits under the field it is about. A
// capability switched on that the upstream did not confirm is said, with the choice to keep it on.

import { api, sendWithProgress } from '../api.js';
import { checkName, checklist, sentence } from '../checks.js';
import { h, replace } from '../dom.js';
import { CAPABILITIES, createBody, valuesFromModel } from '../model-rules.js';
import { modelForm } from '../model-form.js';
import { pageHeader, setFlash } from '../ui.js';

const FORM_ID = 'add-model-form';
// The probe's check names for a capability flag (has_reasoning is reported under its own name).
const CHECK_NAMES = { has_reasoning: ['has_reasoning', 'supports_reasoning'] };

/** The capabilities switched on in the form that the saved model has off (the probe did not confirm them). */
export function droppedClaims(body, model) {
  const saved = valuesFromModel(model);
  const checks = model?.metadata?.validation?.checks ?? [];
  return CAPABILITIES.filter((cap) => body[cap.name] && !saved[cap.name]).map((cap) => {
    const names = CHECK_NAMES[cap.name] ?? [cap.name];
    const check = checks.find((item) => names.includes(item.name));
    return { ...cap, reason: check?.message ? sentence(check.message) : 'The upstream did not confirm it.' };
  });
}

const labels = (claims) => claims.map((claim) => claim.label).join(', ');

function claimsDecision(model, claims, { onKeep, onContinue }) {
  const keep = h('button', { type: 'button', class: 'button button-primary' }, 'Save anyway');
  const proceed = h('button', { type: 'button', class: 'button' }, `Continue with ${claims.length === 1 ? 'it' : 'them'} off`);
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  keep.addEventListener('click', async () => {
    keep.disabled = true;
    proceed.disabled = true;
    status.textContent = 'Saving…';
    try {
      await onKeep();
    } catch (error) {
      if (error?.name === 'AbortError') return;
      status.textContent = `Not saved. ${error.message}`;
      keep.disabled = false;
      proceed.disabled = false;
    }
  });
  proceed.addEventListener('click', onContinue);
  const el = h('div', { class: 'notice notice-warning claims-decision', role: 'alert' },
    h('p', null, h('strong', null, `${model.display_name} was added`),
      `, but the upstream did not confirm ${claims.length === 1 ? 'this capability' : 'these capabilities'}, so ${claims.length === 1 ? 'it was' : 'they were'} saved switched off:`),
    h('ul', null, claims.map((claim) => h('li', null, h('strong', null, claim.label), `: ${claim.reason}`))),
    h('p', null, 'Save anyway keeps them on without confirmation: calls that use them may fail at the upstream.'),
    h('div', { class: 'form-actions' }, keep, proceed, status));
  return { el, focus: () => keep.focus() };
}

export async function render({ main, navigate, signal }) {
  const form = modelForm({ mode: 'create' });
  const checks = checklist({ idle: 'When you add the model, relaygate checks connectivity, authentication and capability before saving it.' });
  // The submit button sits after the validation steps (its form attribute ties it to the form):
  // on a narrow screen the steps come above it, where the user looks after pressing it.
  const submit = h('button', { type: 'submit', class: 'button button-primary', form: FORM_ID }, 'Add Model');
  const cancel = h('a', { class: 'button', href: '/studio/models' }, 'Cancel');
  const formStatus = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const decision = h('div', { class: 'claims-slot' });

  const formEl = h('form', { id: FORM_ID, class: 'form', novalidate: true, 'aria-label': 'OpenAI-like model' }, form.el);
  const panel = h('aside', { class: 'side-panel', 'aria-labelledby': 'validation-title' },
    h('div', { class: 'card' },
      h('h2', { id: 'validation-title' }, 'Validation'),
      checks.el));
  const footer = h('div', { class: 'model-form-footer' }, decision, h('div', { class: 'form-actions' }, submit, cancel, formStatus));

  main.append(
    pageHeader('Add model', {
      subtitle: 'OpenAI-like: connect any OpenAI-compatible endpoint, such as Groq, Together AI, Mistral, vLLM or Ollama.',
      breadcrumb: [h('a', { href: '/studio/models' }, 'Models'), ' / ', h('span', null, 'Add model'), ' / ',
        h('span', { 'aria-current': 'page' }, 'OpenAI-like')],
    }),
    h('div', { class: 'with-side-panel model-form-layout' }, formEl, panel, footer));

  const done = (model, message) => {
    setFlash('success', message);
    navigate(`/models/${encodeURIComponent(model.id)}`);
  };
  const callAs = (model) => `Call it through the router as ${model.router_id}.`;

  const offerToKeep = (model, body, claims) => {
    formStatus.textContent = '';
    submit.hidden = true;
    cancel.hidden = true;
    const choice = claimsDecision(model, claims, {
      onKeep: async () => {
        const keep = Object.fromEntries(claims.map((claim) => [claim.name, true]));
        const patch = { display_name: body.display_name, model_type: body.model_type, region: body.region, ...keep, force: true };
        const saved = await api(`/v2/models/openai-like/${encodeURIComponent(model.id)}`, { method: 'PATCH', body: patch, signal });
        done(saved, `${saved.display_name} was added. Kept on without the upstream confirming ${claims.length === 1 ? 'it' : 'them'}: ${labels(claims)}. ${callAs(saved)}`);
      },
      onContinue: () => done(model, `${model.display_name} was added and validated. Switched off because the upstream did not confirm ${claims.length === 1 ? 'it' : 'them'}: ${labels(claims)}. ${callAs(model)}`),
    });
    replace(decision, choice.el);
    choice.focus();
  };

  formEl.addEventListener('input', () => { if (!submit.disabled) formStatus.textContent = ''; });
  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!form.validate()) {
      formStatus.textContent = 'Some fields need attention.';
      return;
    }
    formStatus.textContent = '';
    form.lock(true);
    submit.disabled = true;
    submit.textContent = 'Validating…';
    checks.start();
    const body = createBody(form.values());
    try {
      const model = await sendWithProgress('/v2/models/openai-like', {
        method: 'POST',
        body,
        signal,
        onEvent: (progress) => { if (progress.event === 'check') checks.update(progress.data); },
      });
      checks.finish(model?.metadata?.validation);
      const claims = droppedClaims(body, model);
      if (claims.length) offerToKeep(model, body, claims);
      else done(model, `${model.display_name} was added and validated. ${callAs(model)}`);
    } catch (error) {
      if (error?.name === 'AbortError') return;
      checks.fail(error);
      form.lock(false);
      submit.disabled = false;
      submit.textContent = 'Add Model';
      const onField = form.setServerError(error);
      const failed = error.validation?.checks?.find((check) => check.status === 'failed');
      formStatus.textContent = failed
        ? `The model was not added: ${checkName(failed.name).toLowerCase()} failed. Your entries are kept.`
        : `The model was not added. ${onField ? 'Check the highlighted field.' : error.message}`;
      if (onField) form.fields[error.param].control.focus();
    }
  });
}
