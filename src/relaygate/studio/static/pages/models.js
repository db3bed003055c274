// The workspace's models: a searchable, filterable table, and the way in to Add Model.

import { api } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, money, relativeTime } from '../format.js';
import { healthCell } from '../health-view.js';
import { MODEL_TYPES, regionLabel, typeLabel } from '../model-rules.js';
import { selectInput, textInput } from '../forms.js';
import { badge, emptyState, notice, pageHeader, statusBadge } from '../ui.js';

function addModelMenu() {
  const menuId = 'add-model-menu';
  const button = h('button', {
    type: 'button', class: 'button button-primary', 'aria-haspopup': 'true', 'aria-expanded': 'false', 'aria-controls': menuId,
  }, 'Add Model ', h('span', { 'aria-hidden': 'true' }, '▾'));
  const link = h('a', { href: '/studio/models/new/openai-like', class: 'menu-item' },
    h('span', { class: 'menu-item-title' }, 'OpenAI-like'),
    h('span', { class: 'menu-item-text' }, 'Any OpenAI-compatible endpoint'));
  const menu = h('div', { id: menuId, class: 'menu', hidden: true }, link);
  const wrapper = h('div', { class: 'menu-wrapper' }, button, menu);
  const setOpen = (open) => {
    menu.hidden = !open;
    button.setAttribute('aria-expanded', open ? 'true' : 'false');
  };
  button.addEventListener('click', () => {
    setOpen(menu.hidden);
    if (!menu.hidden) link.focus();
  });
  wrapper.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !menu.hidden) {
      setOpen(false);
      button.focus();
    }
  });
  wrapper.addEventListener('focusout', (event) => {
    if (!wrapper.contains(event.relatedTarget)) setOpen(false);
  });
  return wrapper;
}

export function priceText(model) {
  const perImage = model.metadata?.cost_per_image;
  if (model.model_type === 'image' && typeof perImage === 'number') return `${money(perImage)} / image`;
  const input = model.input_cost;
  const output = model.output_cost;
  if (typeof input !== 'number' && typeof output !== 'number') return DASH;
  return `${money(input)} in · ${money(output)} out`;
}

function matches(model, text, type) {
  if (type && model.model_type !== type) return false;
  if (!text) return true;
  const haystack = [model.display_name, model.router_id, model.model_id, model.provider, model.description]
    .filter(Boolean).join(' ').toLowerCase();
  return text.toLowerCase().split(/\s+/).every((word) => haystack.includes(word));
}

/** The last validation is a past check: its result with when it ran, never a live state. */
export function validationCell(validation) {
  if (!validation?.status) return statusBadge(null);
  const when = validation.validated_at;
  return [statusBadge(validation.status, when ? `Validated ${dateTime(when)}` : undefined),
    when ? h('span', { class: 'cell-note' }, h('time', { datetime: when, title: dateTime(when) }, relativeTime(when))) : null];
}

function modelRow(model) {
  const validation = model.metadata?.validation;
  const detail = `/studio/models/${encodeURIComponent(model.id)}`;
  return h('tr', { class: model.enabled === false ? 'row-muted' : null },
    h('td', null, h('a', { href: detail, class: 'strong-link' }, model.display_name || model.model_id)),
    h('td', null, h('code', null, model.router_id ?? DASH)),
    h('td', null, typeLabel(model.model_type)),
    h('td', null, model.provider ?? DASH, h('span', { class: 'cell-note' }, regionLabel(model.configuration?.region) || DASH)),
    h('td', { class: 'health-cell' }, healthCell(model.health)),
    h('td', null, validationCell(validation)),
    h('td', { class: 'num' }, priceText(model)),
    h('td', null, model.enabled === false ? badge('Disabled', 'neutral') : badge('Enabled', 'success')));
}

const COLUMNS = ['Name', 'Router ID', 'Type', 'Provider · region', 'Health (live)', 'Last validation', 'Price per 1M', 'Status'];

export async function render({ main, query, signal }) {
  const search = textInput({ type: 'search', value: query.get('q') ?? '', placeholder: 'Name, router id, provider…' });
  search.id = 'model-search';
  const typeFilter = selectInput(MODEL_TYPES, { value: query.get('type') ?? '', placeholder: 'All types' });
  typeFilter.id = 'model-type-filter';
  const count = h('p', { class: 'result-count', role: 'status', 'aria-live': 'polite' });
  const body = h('tbody');
  const table = h('table', { class: 'table' },
    h('caption', { class: 'visually-hidden' }, 'Models of this workspace'),
    h('thead', null, h('tr', null, COLUMNS.map((name) => h('th', { scope: 'col', class: name.startsWith('Price') ? 'num' : null }, name)))),
    body);
  const content = h('div', { class: 'table-wrap table-reserve' }, table);

  main.append(
    pageHeader('Models', {
      subtitle: 'Private models of this workspace, callable through the router by their router id.',
      actions: [addModelMenu()],
    }),
    h('div', { class: 'toolbar', role: 'search' },
      h('div', { class: 'toolbar-field' }, h('label', { for: 'model-search' }, 'Search'), search),
      h('div', { class: 'toolbar-field' }, h('label', { for: 'model-type-filter' }, 'Type'), typeFilter),
      count),
    content);

  body.append(...Array.from({ length: 3 }, () => h('tr', { class: 'skeleton-row' },
    COLUMNS.map(() => h('td', null, h('span', { class: 'skeleton' }))))));
  count.textContent = 'Loading models…';

  let models;
  try {
    models = (await api('/v2/models', { signal })).data ?? [];
  } catch (error) {
    if (error.name === 'AbortError') return;
    count.textContent = '';
    replace(content, notice('error', `The models could not be loaded. ${error.message}`));
    return;
  }

  if (models.length === 0) {
    count.textContent = '';
    replace(content, emptyState('No models yet',
      'Connect an OpenAI-compatible endpoint and relaygate validates it before saving.',
      h('a', { class: 'button button-primary', href: '/studio/models/new/openai-like' }, 'Add Model → OpenAI-like')));
    return;
  }

  models.sort((a, b) => String(a.display_name).localeCompare(String(b.display_name)));
  const update = () => {
    const text = search.value.trim();
    const type = typeFilter.value;
    const shown = models.filter((model) => matches(model, text, type));
    replace(body, shown.length
      ? shown.map(modelRow)
      : h('tr', null, h('td', { colspan: String(COLUMNS.length), class: 'table-empty' }, 'No model matches these filters.')));
    count.textContent = shown.length === models.length
      ? `${models.length} model${models.length === 1 ? '' : 's'}`
      : `${shown.length} of ${models.length} models`;
    const params = new URLSearchParams();
    if (text) params.set('q', text);
    if (type) params.set('type', type);
    const suffix = params.toString();
    history.replaceState(null, '', `/studio/models${suffix ? `?${suffix}` : ''}`);
  };
  search.addEventListener('input', update);
  typeFilter.addEventListener('change', update);
  update();
}
