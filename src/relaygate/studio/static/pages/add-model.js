// Add Model -> OpenAI-like: the form, then the live validation steps while the server probes the
// upstream. On failure the form stays filled and says which step failed and why.

import { sendWithProgress } from '../api.js';
import { checklist } from '../checks.js';
import { h } from '../dom.js';
import { createBody } from '../model-rules.js';
import { modelForm } from '../model-form.js';
import { pageHeader, setFlash } from '../ui.js';

export async function render({ main, navigate, signal }) {
  const form = modelForm({ mode: 'create' });
  const checks = checklist({ idle: 'When you add the model, relaygate checks connectivity, authentication and capability before saving it.' });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, 'Add Model');
  const cancel = h('a', { class: 'button', href: '/studio/models' }, 'Cancel');
  const formStatus = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });

  const formEl = h('form', { class: 'form', novalidate: true, 'aria-label': 'OpenAI-like model' },
    form.el,
    h('div', { class: 'form-actions' }, submit, cancel, formStatus));

  const panel = h('aside', { class: 'side-panel', 'aria-labelledby': 'validation-title' },
    h('div', { class: 'card' },
      h('h2', { id: 'validation-title' }, 'Validation'),
      checks.el));

  main.append(
    pageHeader('Add model', {
      subtitle: 'OpenAI-like: connect any OpenAI-compatible endpoint, such as Groq, Together AI, Mistral, vLLM or Ollama.',
      breadcrumb: [h('a', { href: '/studio/models' }, 'Models'), ' / ', h('span', null, 'Add model'), ' / ',
        h('span', { 'aria-current': 'page' }, 'OpenAI-like')],
    }),
    h('div', { class: 'with-side-panel' }, formEl, panel));

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
    try {
      const model = await sendWithProgress('/v2/models/openai-like', {
        method: 'POST',
        body: createBody(form.values()),
        signal,
        onEvent: (progress) => { if (progress.event === 'check') checks.update(progress.data); },
      });
      checks.finish(model?.metadata?.validation);
      setFlash('success', `${model.display_name} was added and validated. Call it through the router as ${model.router_id}.`);
      navigate(`/models/${encodeURIComponent(model.id)}`);
    } catch (error) {
      if (error?.name === 'AbortError') return;
      checks.fail(error);
      form.lock(false);
      submit.disabled = false;
      submit.textContent = 'Add Model';
      const onField = form.setServerError(error);
      formStatus.textContent = error.validation
        ? 'The model was not added: validation failed. Your entries are kept.'
        : `The model was not added. ${onField ? 'Check the highlighted field.' : error.message}`;
      if (onField) form.fields[error.param].control.focus();
    }
  });
}
