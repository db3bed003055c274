// One deployment: its current configuration, its versions (compare, roll back), a "try it" panel
// and code to call it; edit and delete.

import { api, send } from '../api.js';
import { h } from '../dom.js';
import { DASH, dateTime, relativeTime } from '../format.js';
import { apiPath, contentText, routerModel, studioPath } from '../deployment-rules.js';
import { deploymentSnippets } from '../deployment-snippets.js';
import { tryPanel } from '../deployment-try.js';
import { highlighted } from '../template-editor.js';
import { allVersions, versionHistory } from '../version-history.js';
import { badge, codeBlock, confirmDialog, copyButton, emptyState, notice, pageHeader, setFlash, tabs } from '../ui.js';

const SECTIONS = ['configuration', 'versions', 'try', 'code'];

function definitionList(rows) {
  return h('dl', { class: 'definitions' }, rows.map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? DASH)]));
}

const json = (value) => h('code', { class: 'break' }, JSON.stringify(value));

function messagesView(messages) {
  return h('ol', { class: 'prompt-view' }, messages.map((message) => h('li', { class: 'prompt-message' },
    h('p', { class: 'message-role' }, message.role),
    h('pre', { class: 'prompt-text' }, highlighted(contentText(message.content))))));
}

function variablesView(names) {
  return names?.length
    ? h('ul', { class: 'variable-list', 'aria-label': 'Variables' }, names.map((name) => h('li', null, h('code', { class: 'template-var' }, `{{${name}}}`))))
    : h('p', { class: 'muted' }, 'None: the prompt has no {{variables}}.');
}

function parametersList(parameters) {
  const entries = Object.entries(parameters ?? {});
  return entries.length ? definitionList(entries.map(([name, value]) => [name, typeof value === 'object' ? json(value) : String(value)]))
    : h('p', { class: 'muted' }, 'None set: the model’s defaults.');
}

function contextText(context) {
  return Object.entries(context ?? {}).map(([name, value]) => `${name} = ${Array.isArray(value) ? value.join(' | ') : value}`).join(', ');
}

function variantsView(deployment) {
  if (!deployment.variants?.length) return h('p', { class: 'muted' }, 'No variants: every call gets the configuration above.');
  const theDefaults = h('span', { class: 'muted' }, 'the default’s');
  return h('ul', { class: 'variant-views' }, deployment.variants.map((variant, index) => h('li', { class: 'variant-view' },
    h('p', null, h('strong', null, variant.name || `variant-${index + 1}`), ' serves ', h('code', null, contextText(variant.context))),
    definitionList([
      ['Model', variant.model ? h('code', null, variant.model) : theDefaults.cloneNode(true)],
      ['Messages', variant.messages ? messagesView(variant.messages) : theDefaults.cloneNode(true)],
      ['Parameters', Object.keys(variant.parameters ?? {}).length ? json(variant.parameters) : theDefaults.cloneNode(true)],
    ]))));
}

function routingView(deployment) {
  const fallbacks = deployment.fallbacks ?? [];
  return definitionList([
    ['Fallbacks', fallbacks.length ? h('ol', { class: 'plain-list' }, fallbacks.map((f) => h('li', null, h('code', null, f.model)))) : 'None'],
    ['Retries', deployment.retry ? `${deployment.retry.count} on ${(deployment.retry.on_codes ?? [429]).join(', ')}` : 'None'],
    ['Timeout', deployment.timeout ? `${deployment.timeout.call_timeout} ms per attempt` : 'None'],
    ['Cache', deployment.cache ? `Exact match, ${deployment.cache.ttl ?? 1800} s` : 'Off'],
  ]);
}

function card(title, ...children) {
  return h('section', { class: 'card' }, h('h2', null, title), children);
}

function configuration(deployment) {
  return h('div', { class: 'deployment-config' },
    h('div', { class: 'config-main' },
      card('Prompt', messagesView(deployment.messages ?? []), h('h3', null, 'Variables'), variablesView(deployment.variables)),
      card('Variants', variantsView(deployment))),
    h('div', { class: 'config-side' },
      card('Model and parameters', definitionList([['Model', h('code', null, deployment.model)]]), h('h3', null, 'Parameters'),
        parametersList(deployment.parameters)),
      card('Routing', routingView(deployment)),
      card('About', definitionList([
        ['Description', deployment.description || DASH],
        ['Created', dateTime(deployment.created_at)],
        ['Updated', dateTime(deployment.updated_at)],
        ['Id', h('code', null, deployment.id)],
      ]))));
}

function codeCard(deployment) {
  const last = deployment.messages?.at(-1);
  const code = deploymentSnippets({
    origin: location.origin, key: deployment.key, variables: deployment.variables ?? [], endsWithUser: last?.role === 'user',
  });
  return h('section', { class: 'card', 'aria-labelledby': 'code-title' },
    h('h2', { id: 'code-title' }, 'Call it from code'),
    h('p', { class: 'muted' }, 'Use a key from ', h('a', { href: '/studio/keys' }, 'API keys'),
      ' as ORQ_API_KEY (the SDKs) or RELAYGATE_API_KEY (the router). The SDKs need only this server’s URL.'),
    tabs([
      { label: 'Python (orq-ai-sdk)', content: codeBlock(code.python, 'Python') },
      { label: 'Node (@orq-ai/node)', content: codeBlock(code.node, 'Node') },
      { label: 'OpenAI SDK', content: codeBlock(code.openai, 'OpenAI') },
    ], { label: 'Language' }));
}

async function deleteDeployment(deployment, navigate, errorSlot) {
  const confirmed = await confirmDialog({
    title: `Delete ${deployment.key}?`,
    message: [h('p', null, 'Calls to ', h('code', null, deployment.key), ' and ', h('code', null, routerModel(deployment.key)),
      ' will fail at once. All its versions are deleted; usage already recorded is kept.'),
    h('p', null, 'This cannot be undone.')],
    confirmLabel: 'Delete deployment',
    danger: true,
  });
  if (!confirmed) return;
  try {
    await send(apiPath(deployment.key), { method: 'DELETE' });
    setFlash('success', `${deployment.key} was deleted.`);
    navigate('/deployments');
  } catch (error) {
    errorSlot.replaceChildren(notice('error', `The deployment was not deleted. ${error.message}`));
  }
}

function header(deployment) {
  const name = routerModel(deployment.key);
  return h('div', { class: 'header-meta' },
    h('span', { class: 'router-id' }, 'Router model ', h('code', { id: 'router-model' }, name), ' ',
      copyButton(() => name, { label: 'Copy', describedBy: 'router-model', className: 'button button-small button-quiet' })),
    badge(`Version ${deployment.version}`, 'info'),
    h('span', { class: 'muted' }, `Updated ${relativeTime(deployment.updated_at)}`));
}

export async function render({ main, params, query, signal, navigate, setTitle }) {
  const key = decodeURIComponent(params.key);
  let deployment;
  let models;
  let versions;
  let keyNames;
  try {
    [deployment, models, versions, keyNames] = await Promise.all([
      api(apiPath(key), { signal }),
      api('/v2/models', { signal }).then((list) => list?.data ?? []),
      allVersions(key, signal),
      // Only to name who made each version: without it the history shows key ids.
      api('/v2/api-keys', { signal }).then((list) => new Map((list?.data ?? []).map((k) => [k.id, k.name])), () => new Map()),
    ]);
  } catch (error) {
    if (error.name === 'AbortError') return undefined;
    main.append(pageHeader('Deployment'), error.status === 404
      ? emptyState('This deployment does not exist', 'It may have been deleted.', h('a', { class: 'button', href: '/studio/deployments' }, 'Back to Deployments'))
      : notice('error', `The deployment could not be loaded. ${error.message}`));
    return undefined;
  }
  const title = deployment.display_name || deployment.key;
  setTitle(title);
  const errorSlot = h('div', { class: 'error-slot' });
  const remove = h('button', { type: 'button', class: 'button button-danger-quiet' }, 'Delete');
  remove.addEventListener('click', () => deleteDeployment(deployment, navigate, errorSlot));
  const trial = tryPanel({ deployment, models, signal });
  const onRolledBack = (updated, from) => {
    setFlash('success', `Rolled back: version ${updated.version} has the content of version ${from}.`);
    navigate(`${studioPath(deployment.key)}?tab=versions`, { replace: true });
  };
  const sections = tabs([
    { label: 'Configuration', content: configuration(deployment) },
    { label: 'Versions', content: versionHistory({ deployment, versions, keyNames, onRolledBack }) },
    { label: 'Try it', content: trial.el },
    { label: 'Code', content: codeCard(deployment) },
  ], { label: 'Deployment' });
  main.append(
    pageHeader(title, {
      breadcrumb: [h('a', { href: '/studio/deployments' }, 'Deployments'), ' / ', h('span', { 'aria-current': 'page' }, title)],
      subtitle: deployment.description || null,
      actions: [h('a', { class: 'button', href: `${studioPath(deployment.key)}/edit` }, 'Edit'), remove],
    }),
    header(deployment),
    errorSlot,
    sections);
  const wanted = SECTIONS.indexOf(query.get('tab') ?? '');
  if (wanted > 0) sections.querySelectorAll('[role=tab]')[wanted].click();
  return () => trial.stop();
}
