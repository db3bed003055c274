// Web search: the backend relaygate searches with when a call asks for web search on a model that
// cannot search itself (/v2/search/backend). Its key is sent once and only a hint comes back.

import { api, send } from '../api.js';
import { h, replace } from '../dom.js';
import { DASH, dateTime, money } from '../format.js';
import { field, liveValidation, secretInput, selectInput, showErrors, textInput, toggle } from '../forms.js';
import { badge, codeBlock, confirmDialog, notice, pageHeader } from '../ui.js';

const PATH = '/v2/search/backend';
const KINDS = [
  ['searxng', 'SearXNG (self-hosted, recommended)'],
  ['brave', 'Brave Search API'],
  ['tavily', 'Tavily'],
];
const KIND_NAMES = { searxng: 'SearXNG', brave: 'Brave Search', tavily: 'Tavily' };
const DEFAULT_URLS = { brave: 'https://api.search.brave.com/res/v1', tavily: 'https://api.tavily.com' };
const NEEDS_KEY = new Set(['brave', 'tavily']);
const LIMITS = {
  max_searches: { min: 1, max: 20, whole: true, words: 'a whole number from 1 to 20' },
  timeout_s: { min: 0.1, max: 60, whole: false, words: 'seconds, above 0 and at most 60' },
  cache_ttl_s: { min: 0, max: 86400, whole: true, words: 'whole seconds from 0 (no cache) to 86,400' },
};

const EXAMPLE = `from openai import OpenAI

client = OpenAI(base_url="${location.origin}/v3/router", api_key="<router key>")
response = client.responses.create(
    model="<provider>/<model>",
    input="What changed in the latest SearXNG release?",
    tools=[{"type": "web_search"}],
)
print(response.output_text)  # cites its sources as url_citation annotations`;

function numberInput(value, { step = 'any', min, max }) {
  return h('input', { type: 'number', class: 'input', step, min, max, value: value ?? '', inputmode: 'decimal' });
}

function summary(backend) {
  if (!backend) {
    return notice('info', 'No search backend yet: calls that ask for web search get HTTP 400 until you save one below.');
  }
  const rows = [
    ['Backend', KIND_NAMES[backend.kind] ?? backend.kind],
    ['Address', h('code', null, backend.base_url)],
    ['API key', backend.api_key_hint ? h('code', null, backend.api_key_hint) : 'None'],
    ['Searches per call', String(backend.max_searches)],
    ['Timeout', `${backend.timeout_s} s`],
    ['Result cache', backend.cache_ttl_s ? `${backend.cache_ttl_s} s` : 'Off'],
    ['Price', backend.price_per_1000 ? `${money(Number(backend.price_per_1000))} per 1000 searches` : 'The model’s (million_searches_cost)'],
    ['Models with their own search', backend.prefer_relaygate ? 'Searched by relaygate' : 'Search themselves'],
    ['Updated', dateTime(backend.updated_at)],
  ];
  return h('section', { class: 'card', 'aria-labelledby': 'current-backend' },
    h('div', { class: 'card-header' }, h('h2', { id: 'current-backend' }, 'Current backend'), badge('Active', 'success')),
    h('dl', { class: 'definitions' }, rows.map(([term, value]) => [h('dt', null, term), h('dd', null, value ?? DASH)])));
}

function backendForm(current, onSaved, onRemoved) {
  const secret = secretInput({ placeholder: current?.api_key_hint ? `Unchanged (${current.api_key_hint})` : 'Key of the search API' });
  const fields = {
    kind: field({ name: 'kind', label: 'Search service', required: true, control: selectInput(KINDS, { value: current?.kind ?? 'searxng' }) }),
    base_url: field({ name: 'base_url', label: 'Base URL', control: textInput({ value: current?.base_url ?? '', inputmode: 'url' }) }),
    api_key: field({ name: 'api_key', label: 'API key', control: secret.input, wrapper: secret.el }),
    max_searches: field({ name: 'max_searches', label: 'Searches per call', required: true,
      control: numberInput(current?.max_searches ?? 3, { step: '1', min: '1', max: '20' }),
      hint: 'Then the model answers with what it found.' }),
    timeout_s: field({ name: 'timeout_s', label: 'Timeout (seconds)', required: true,
      control: numberInput(current?.timeout_s ?? 10, { min: '0.1', max: '60' }), hint: 'One search; past it the model is told it failed.' }),
    cache_ttl_s: field({ name: 'cache_ttl_s', label: 'Cache results for (seconds)', required: true,
      control: numberInput(current?.cache_ttl_s ?? 300, { step: '1', min: '0', max: '86400' }), hint: 'The same query again costs no search. 0: off.' }),
    price_per_1000: field({ name: 'price_per_1000', label: 'Price per 1000 searches (USD)',
      control: numberInput(current?.price_per_1000 ?? '', { min: '0' }), hint: 'Empty: the model’s million_searches_cost.' }),
  };
  const prefer = toggle({
    name: 'prefer_relaygate', label: 'Search here for every model', checked: Boolean(current?.prefer_relaygate),
    hint: 'Also for models whose upstream has its own /responses web search (they search themselves otherwise).',
  });
  const value = (name) => fields[name].control.value.trim();
  const kind = () => fields.kind.control.value;
  const moved = () => Boolean(current) && (current.kind !== kind() || current.base_url !== (value('base_url') || DEFAULT_URLS[kind()] || ''));
  const keyNeeded = () => NEEDS_KEY.has(kind()) && (!current?.api_key_hint || moved());

  const describe = () => {
    const searxng = kind() === 'searxng';
    fields.base_url.setRequired(searxng);
    fields.base_url.control.placeholder = searxng ? 'http://searxng:8080' : DEFAULT_URLS[kind()];
    fields.base_url.setHint(searxng
      ? 'Your instance, with format: json enabled in its settings.yml. A private address needs the operator’s allowlist.'
      : 'Empty: the API’s own address.');
    fields.api_key.setRequired(keyNeeded());
    fields.api_key.setHint(current?.api_key_hint && !moved()
      ? 'Leave empty to keep the stored key. Stored encrypted, never shown again.'
      : searxng ? 'Only if a proxy in front of it wants a bearer token.' : 'Stored encrypted, never shown again.');
  };

  const check = (name) => {
    const text = value(name);
    if (name === 'base_url') {
      if (!text) return kind() === 'searxng' ? 'Enter the address of your SearXNG instance.' : '';
      return /^https?:\/\/[^\s/]+/i.test(text) ? '' : 'Enter an http:// or https:// address.';
    }
    if (name === 'api_key') return keyNeeded() && !text ? `Enter the ${KIND_NAMES[kind()]} API key.` : '';
    if (name === 'price_per_1000') {
      return text === '' || (Number.isFinite(Number(text)) && Number(text) >= 0) ? '' : 'Enter a price of 0 or more, or leave it empty.';
    }
    const limit = LIMITS[name];
    if (!limit) return '';
    const n = Number(text);
    const ok = text !== '' && Number.isFinite(n) && n >= limit.min && n <= limit.max && (!limit.whole || Number.isInteger(n));
    return ok ? '' : `Enter ${limit.words}.`;
  };
  liveValidation(fields, check);
  fields.kind.control.addEventListener('change', describe);
  fields.base_url.control.addEventListener('input', describe);
  describe();

  const submit = h('button', { type: 'submit', class: 'button button-primary' }, current ? 'Save changes' : 'Save backend');
  const remove = current ? h('button', { type: 'button', class: 'button button-danger-quiet' }, 'Remove backend') : null;
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const errorSlot = h('div', { class: 'error-slot' });
  const form = h('form', { class: 'card form', novalidate: true, 'aria-labelledby': 'backend-form-title' },
    h('h2', { id: 'backend-form-title', tabindex: '-1' }, current ? 'Change the backend' : 'Set a backend'),
    h('div', { class: 'grid-2' }, fields.kind.el, fields.base_url.el),
    fields.api_key.el,
    h('div', { class: 'grid-4' }, fields.max_searches.el, fields.timeout_s.el, fields.cache_ttl_s.el, fields.price_per_1000.el),
    prefer.el,
    errorSlot,
    h('div', { class: 'form-actions' }, submit, remove, status));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    replace(errorSlot);
    const errors = Object.fromEntries(Object.keys(fields).map((name) => [name, check(name)]));
    if (showErrors(fields, errors) > 0) {
      status.textContent = 'Some fields need attention.';
      return;
    }
    const body = {
      kind: kind(),
      max_searches: Number(value('max_searches')),
      timeout_s: Number(value('timeout_s')),
      cache_ttl_s: Number(value('cache_ttl_s')),
      prefer_relaygate: prefer.control.checked,
    };
    if (value('base_url')) body.base_url = value('base_url');
    if (value('api_key')) body.api_key = value('api_key');
    if (value('price_per_1000')) body.price_per_1000 = value('price_per_1000');
    submit.disabled = true;
    status.textContent = 'Saving…';
    try {
      onSaved(await api(PATH, { method: 'PUT', body }));
    } catch (error) {
      status.textContent = '';
      const item = error.param ? fields[String(error.param).split('.').pop()] : null;
      if (item) {
        item.setError(error.message);
        item.control.focus();
      } else {
        replace(errorSlot, notice('error', `The backend was not saved. ${error.message}`));
      }
    } finally {
      submit.disabled = false;
    }
  });
  remove?.addEventListener('click', async () => {
    const confirmed = await confirmDialog({
      title: 'Remove the search backend?',
      message: h('p', null, 'Calls that ask for web search on models without their own search get HTTP 400 until a backend is set again.'),
      confirmLabel: 'Remove backend',
      danger: true,
    });
    if (!confirmed) return;
    try {
      await send(PATH, { method: 'DELETE' });
      onRemoved();
    } catch (error) {
      replace(errorSlot, notice('error', `The backend was not removed. ${error.message}`));
    }
  });
  return form;
}

export async function render({ main, signal }) {
  const flashSlot = h('div', { class: 'error-slot', 'aria-live': 'polite' });
  const summarySlot = h('div');
  const formSlot = h('div');

  const draw = (backend, message) => {
    replace(flashSlot, message ? notice('success', message) : null);
    replace(summarySlot, summary(backend));
    replace(formSlot, backendForm(backend,
      (saved) => draw(saved, 'Saved. Calls use this backend from now on.'),
      () => draw(null, 'The backend was removed.')));
  };

  main.append(
    pageHeader('Web search', {
      subtitle: 'When a call asks for web search (the Responses web_search tool, chat web_search_options) on a model '
        + 'that can call tools, relaygate runs the searches here and the answer cites its sources.',
    }),
    flashSlot,
    h('div', { class: 'page-stack' }, summarySlot, formSlot,
      h('section', { class: 'card', 'aria-labelledby': 'search-example' },
        h('h2', { id: 'search-example' }, 'Use it'),
        h('p', { class: 'muted' }, 'Any OpenAI SDK, any model with tool calling:'),
        codeBlock(EXAMPLE, 'Python'))));
  replace(summarySlot, h('div', { class: 'loading-block', role: 'status' }, 'Loading the backend…'));
  try {
    draw(await api(PATH, { signal }));
  } catch (error) {
    if (error.name === 'AbortError') return;
    if (error.status === 404) draw(null);
    else replace(summarySlot, notice('error', `The backend could not be loaded. ${error.message}`));
  }
}
