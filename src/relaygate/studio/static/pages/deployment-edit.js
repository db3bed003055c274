// Create a deployment (/deployments/_new: no key starts with "_", so no deployment shadows it)
// or change one (/deployments/<key>/edit, a new version).

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { apiPath, changedFields, chatModels, contentOf, routerModel, studioPath } from '../deployment-rules.js';
import { deploymentForm } from '../deployment-form.js';
import { emptyState, notice, pageHeader, setFlash } from '../ui.js';

function sidePanel() {
  const variables = h('div', { class: 'variables-found' });
  const el = h('aside', { class: 'side-panel', 'aria-labelledby': 'summary-title' },
    h('div', { class: 'card' },
      h('h2', { id: 'summary-title' }, 'Inputs of every call'),
      h('p', { class: 'muted small' }, 'Callers give a value for each variable in ', h('code', null, 'inputs'),
        '; a missing one is a 400 that names it.'),
      variables));
  return {
    el,
    show(names) {
      replace(variables, names.length
        ? h('ul', { class: 'variable-list', 'aria-label': 'Variables of the deployment' },
          names.map((name) => h('li', null, h('code', { class: 'template-var' }, `{{${name}}}`))))
        : h('p', { class: 'muted small' }, 'None yet.'));
    },
  };
}

async function load(ctx) {
  const { params, mode, signal } = ctx;
  const [modelList, deployment] = await Promise.all([
    api('/v2/models', { signal }),
    mode === 'edit' ? api(apiPath(decodeURIComponent(params.key)), { signal }) : null,
  ]);
  return { models: modelList?.data ?? [], deployment };
}

export async function render(ctx) {
  const { main, mode, navigate, signal, setTitle } = ctx;
  const creating = mode !== 'edit';
  let loaded;
  try {
    loaded = await load(ctx);
  } catch (error) {
    if (error.name === 'AbortError') return;
    main.append(pageHeader(creating ? 'New deployment' : 'Edit deployment'));
    main.append(error.status === 404
      ? emptyState('This deployment does not exist', 'It may have been deleted.', h('a', { class: 'button', href: '/studio/deployments' }, 'Back to Deployments'))
      : notice('error', `The page could not be loaded. ${error.message}`));
    return;
  }
  const { deployment } = loaded;
  const original = deployment ? contentOf(deployment) : null;
  const used = original ? [original.model, ...original.variants.map((v) => v.model), ...original.fallbacks.map((f) => f.model)] : [];
  const models = chatModels(loaded.models, used);
  const title = creating ? 'New deployment' : `Edit ${deployment.display_name || deployment.key}`;
  setTitle(title);
  const breadcrumb = [h('a', { href: '/studio/deployments' }, 'Deployments'), ' / ',
    creating ? h('span', { 'aria-current': 'page' }, 'New')
      : [h('a', { href: studioPath(deployment.key) }, deployment.display_name || deployment.key), ' / ', h('span', { 'aria-current': 'page' }, 'Edit')]];
  main.append(pageHeader(title, {
    breadcrumb,
    subtitle: creating ? 'A prompt, a model and its routing, versioned, that applications call by key.'
      : `Saving makes version ${deployment.version + 1}; version ${deployment.version} stays in the history.`,
  }));
  if (!models.length) {
    main.append(emptyState('No chat model yet', 'A deployment needs an enabled chat model of this workspace.',
      h('a', { class: 'button button-primary', href: '/studio/models/new/openai-like' }, 'Add Model → OpenAI-like')));
    return;
  }

  const panel = sidePanel();
  const form = deploymentForm({ deployment: deployment ?? {}, models, mode: creating ? 'create' : 'edit', onVariables: panel.show });
  const submit = h('button', { type: 'submit', class: 'button button-primary' }, creating ? 'Create deployment' : 'Save as new version');
  const cancel = h('a', { class: 'button', href: creating ? '/studio/deployments' : studioPath(deployment.key) }, 'Cancel');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const errorSlot = h('div', { class: 'error-slot' });
  const formEl = h('form', { class: 'form', novalidate: true, 'aria-label': creating ? 'New deployment' : `Edit ${deployment.key}` },
    form.el, errorSlot, h('div', { class: 'form-actions' }, submit, cancel, status));
  main.append(h('div', { class: 'with-side-panel' }, formEl, panel.el));

  formEl.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorSlot);
    const { key, content, problems } = form.read();
    if (problems.count) {
      form.show(problems);
      status.textContent = `${problems.count === 1 ? 'One field needs' : `${problems.count} fields need`} attention.`;
      return;
    }
    const body = creating ? createBody(key, content) : changedFields(content, original);
    if (!creating && !Object.keys(body).length) {
      status.textContent = `Nothing changed: version ${deployment.version} stays current.`;
      return;
    }
    status.textContent = 'Saving…';
    form.lock(true);
    submit.disabled = true;
    try {
      const saved = await api(creating ? '/v2/deployments' : apiPath(deployment.key), { method: creating ? 'POST' : 'PATCH', body, signal });
      setFlash('success', creating
        ? `${saved.key} was created (version 1). Call it as ${routerModel(saved.key)} or by its key.`
        : `Saved as version ${saved.version}.`);
      navigate(studioPath(saved.key));
    } catch (error) {
      if (error?.name === 'AbortError') return;
      form.lock(false);
      submit.disabled = false;
      const onField = form.setServerError(error);
      status.textContent = onField ? 'Not saved. Check the highlighted field.' : 'Not saved.';
      if (!onField) replace(errorSlot, notice('error', error.message));
    }
  });
  return undefined;
}

/** A new deployment's body: its key and the content, leaving out what is empty. */
function createBody(key, content) {
  const body = { key };
  for (const [name, value] of Object.entries(content)) {
    const empty = value === null || value === '' || (Array.isArray(value) && !value.length)
      || (typeof value === 'object' && value !== null && !Array.isArray(value) && !Object.keys(value).length);
    if (!empty) body[name] = value;
  }
  return body;
}
