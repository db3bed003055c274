// A deployment's routing policy, the router's own fields: fallbacks (models tried in order when
// the model fails), retries, a per-attempt timeout and the exact-match answer cache.

import { h } from './dom.js';
import { field, selectInput, textInput, toggle } from './forms.js';
import { LIMITS, modelOptions } from './deployment-rules.js';
import { orderedList } from './ordered-list.js';

function numberControl(value, { min, max, step = '1', placeholder }) {
  const control = textInput({ type: 'number', value: value ?? '', placeholder, inputmode: 'numeric' });
  Object.assign(control, { min: String(min), max: String(max), step });
  return control;
}

function wholeNumber(item, problems, { min, max, what }) {
  const text = item.control.validity.badInput ? 'x' : item.control.value.trim();
  item.setError('');
  if (text === '') return null;
  const n = Number(text);
  if (Number.isInteger(n) && n >= min && n <= max) return n;
  problems.add(item, `Enter ${what}: a whole number from ${min} to ${max.toLocaleString('en-US')}.`);
  return null;
}

function fallbackItem(models) {
  return (entry) => {
    const model = field({
      name: 'model', label: 'Model', marked: false,
      control: selectInput(modelOptions(models), { value: entry?.model ?? '', placeholder: 'Choose a model' }),
    });
    return {
      el: model.el,
      focus: () => model.control.focus(),
      read(problems) {
        model.setError('');
        if (!model.control.value) problems.add(model, 'Choose the model to fall back to, or remove this row.');
        return { ...(entry ?? {}), model: model.control.value };
      },
      target: () => model,
    };
  };
}

/** routingEditor({values, models}) -> {el, read(problems) -> {fallbacks, retry, timeout, cache}, target(path)} */
export function routingEditor({ values = {}, models }) {
  const fallbacks = orderedList({
    values: values.fallbacks ?? [],
    make: fallbackItem(models),
    itemLabel: (index) => `Fallback ${index + 1}`,
    addLabel: 'Add fallback',
    max: LIMITS.fallbacks,
    className: 'fallback-list',
  });
  const fields = {
    count: field({
      name: 'retry_count', label: 'Retries', marked: false,
      control: numberControl(values.retry?.count, { min: 1, max: LIMITS.retries, placeholder: 'None' }),
      hint: `Attempts again on the codes below; 1 to ${LIMITS.retries}.`,
    }),
    on_codes: field({
      name: 'retry_codes', label: 'Retry on status codes', marked: false,
      control: textInput({ value: (values.retry?.on_codes ?? []).join(', '), placeholder: '429' }),
      hint: 'Comma-separated, 400-599. Empty: 429.',
    }),
    call_timeout: field({
      name: 'call_timeout', label: 'Timeout per attempt (ms)', marked: false,
      control: numberControl(values.timeout?.call_timeout, { min: 1, max: LIMITS.callTimeoutMs, placeholder: 'None' }),
      hint: 'A slower attempt counts as failed.',
    }),
    ttl: field({
      name: 'cache_ttl', label: 'Cache lifetime (s)', marked: false,
      control: numberControl(values.cache ? (values.cache.ttl ?? LIMITS.defaultCacheTtl) : '', { min: 1, max: LIMITS.cacheTtl, placeholder: String(LIMITS.defaultCacheTtl) }),
      hint: `1 to ${LIMITS.cacheTtl.toLocaleString('en-US')} seconds.`,
    }),
  };
  const cache = toggle({ name: 'cache', label: 'Cache identical calls', hint: 'An exact repeat of a call gets the stored answer, no model call.', checked: Boolean(values.cache) });
  const showTtl = () => { fields.ttl.el.hidden = !cache.control.checked; };
  cache.control.addEventListener('change', showTtl);
  showTtl();

  function readCodes(problems) {
    const item = fields.on_codes;
    item.setError('');
    const parts = item.control.value.split(/[\s,]+/).filter(Boolean);
    const codes = parts.map(Number);
    if (codes.some((code) => !Number.isInteger(code) || code < 400 || code > 599)) {
      problems.add(item, 'List HTTP error codes from 400 to 599, separated by commas.');
      return null;
    }
    return codes.length ? codes : null;
  }

  return {
    el: h('div', { class: 'routing-editor' },
      h('div', { class: 'field' }, h('p', { class: 'field-label' }, 'Fallbacks'),
        h('p', { class: 'field-hint' }, 'Tried in this order when the model fails. Chat models only.'), fallbacks.el),
      h('div', { class: 'grid-2' }, fields.count.el, fields.on_codes.el, fields.call_timeout.el,
        h('div', { class: 'field' }, cache.el, fields.ttl.el))),
    read(problems) {
      const count = wholeNumber(fields.count, problems, { min: 1, max: LIMITS.retries, what: 'the retries' });
      const codes = readCodes(problems);
      if (codes && count === null && !fields.count.control.value.trim()) problems.add(fields.count, 'Set how many retries these codes get.');
      const timeout = wholeNumber(fields.call_timeout, problems, { min: 1, max: LIMITS.callTimeoutMs, what: 'the timeout' });
      let ttl = null;
      if (cache.control.checked) ttl = wholeNumber(fields.ttl, problems, { min: 1, max: LIMITS.cacheTtl, what: 'the lifetime' }) ?? LIMITS.defaultCacheTtl;
      return {
        fallbacks: fallbacks.read(problems),
        retry: count === null ? null : { count, ...(codes ? { on_codes: codes } : {}) },
        timeout: timeout === null ? null : { call_timeout: timeout },
        cache: ttl === null ? null : { type: values.cache?.type ?? 'exact_match', ttl },
      };
    },
    target(path) {
      const [head, second] = path;
      if (head === 'fallbacks') return fallbacks.target(path.slice(1));
      if (head === 'retry') return second === 'on_codes' ? fields.on_codes : fields.count;
      if (head === 'timeout') return fields.call_timeout;
      if (head === 'cache') return second === 'ttl' ? fields.ttl : { setError: (m) => fields.ttl.setError(m), focus: () => cache.control.focus() };
      return null;
    },
  };
}
