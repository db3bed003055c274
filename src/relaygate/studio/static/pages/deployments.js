// The workspace's deployments: key, name, model, current version, variables, last change.

import { api, query } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, relativeTime } from '../format.js';
import { textInput } from '../forms.js';
import { studioPath } from '../deployment-rules.js';
import { emptyState, notice, pageHeader } from '../ui.js';

const PAGE = 50;
const COLUMNS = ['Key', 'Name', 'Model', 'Version', 'Variables', 'Updated'];

/** Every deployment, page by page (the list is cursor-paginated, newest first). */
export async function allDeployments(signal) {
  const found = [];
  let after = null;
  for (;;) {
    const page = await api(`/v2/deployments${query({ limit: PAGE, starting_after: after })}`, { signal });
    found.push(...(page?.data ?? []));
    if (!page?.has_more || !page.data?.length) return found;
    after = page.data.at(-1).id;
  }
}

// The list answers the SDK's item shape plus relaygate's own fields; read ours first.
const versionOf = (item) => item.version_number ?? Number.parseInt(String(item.version ?? '').replace(/^v/, ''), 10);
const modelOf = (item) => item.model ?? item.prompt_config?.model;
const updatedOf = (item) => item.updated_at ?? item.updated;

function variablesCell(names) {
  if (!names?.length) return h('span', { class: 'muted' }, 'None');
  return h('span', { class: 'variable-inline' }, names.map((name) => h('code', { class: 'template-var' }, `{{${name}}}`)));
}

function row(item) {
  const version = versionOf(item);
  return h('tr', null,
    h('td', null, h('a', { href: studioPath(item.key), class: 'strong-link' }, h('code', null, item.key))),
    h('td', null, item.display_name || item.key),
    h('td', null, modelOf(item) ? h('code', null, modelOf(item)) : DASH),
    h('td', { class: 'num' }, Number.isFinite(version) ? `v${version}` : DASH),
    h('td', null, variablesCell(item.variables)),
    h('td', { title: dateTime(updatedOf(item)) }, relativeTime(updatedOf(item))));
}

function matches(item, text) {
  if (!text) return true;
  const haystack = [item.key, item.display_name, modelOf(item), item.description, ...(item.variables ?? [])]
    .filter(Boolean).join(' ').toLowerCase();
  return text.toLowerCase().split(/\s+/).every((word) => haystack.includes(word));
}

export async function render({ main, query: params, signal }) {
  const create = h('a', { class: 'button button-primary', href: '/studio/deployments/_new' }, 'Create deployment');
  const search = textInput({ type: 'search', value: params.get('q') ?? '', placeholder: 'Key, name, model, variable…' });
  search.id = 'deployment-search';
  const count = h('p', { class: 'result-count', role: 'status', 'aria-live': 'polite' }, 'Loading deployments…');
  const body = h('tbody', null, Array.from({ length: 3 }, () => h('tr', { class: 'skeleton-row' },
    COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' }))))));
  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Deployments of this workspace'),
    h('thead', null, h('tr', null, COLUMNS.map((name) => h('th', { scope: 'col', class: name === 'Version' ? 'num' : null }, name)))),
    body);
  const content = h('div', { class: 'table-wrap table-reserve' }, table);
  main.append(
    pageHeader('Deployments', {
      subtitle: 'Prompt, model and routing under one key, versioned: applications call the key, you change what is behind it.',
      actions: [create],
    }),
    h('div', { class: 'toolbar', role: 'search' },
      h('div', { class: 'toolbar-field' }, h('label', { for: 'deployment-search' }, 'Search'), search), count),
    content);

  let items;
  try {
    items = await allDeployments(signal);
  } catch (error) {
    if (error.name === 'AbortError') return;
    count.textContent = '';
    replace(content, notice('error', `The deployments could not be loaded. ${error.message}`));
    return;
  }
  if (!items.length) {
    count.textContent = '';
    search.closest('.toolbar').hidden = true;
    replace(content, emptyState('No deployments yet',
      'A deployment holds a prompt template with {{variables}}, a model, its parameters and routing. Applications call it by key, and every change is a version you can roll back.',
      h('a', { class: 'button button-primary', href: '/studio/deployments/_new' }, 'Create deployment')));
    return;
  }
  const update = () => {
    const text = search.value.trim();
    const shown = items.filter((item) => matches(item, text));
    replace(body, shown.length ? shown.map(row)
      : h('tr', null, h('td', { colspan: String(COLUMNS.length), class: 'table-empty' }, 'No deployment matches this search.')));
    count.textContent = shown.length === items.length
      ? `${items.length} deployment${items.length === 1 ? '' : 's'}`
      : `${shown.length} of ${items.length} deployments`;
    history.replaceState(null, '', `/studio/deployments${text ? `?q=${encodeURIComponent(text)}` : ''}`);
  };
  search.addEventListener('input', update);
  update();
}
