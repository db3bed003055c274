// The OpenAI-like model form in its three sections (Connection, General, Advanced), shared by
// Add Model and Edit Model.

import { h } from './dom.js';
import { field, liveValidation, secretInput, selectInput, showErrors, textArea, textInput, toggle } from './forms.js';
import { CAPABILITIES, MODEL_TYPES, REGIONS, fieldError, validateModel } from './model-rules.js';

function section(title, description, ...children) {
  return h('fieldset', { class: 'form-section' },
    h('legend', null, title),
    description ? h('p', { class: 'section-description' }, description) : null,
    children);
}

function numberInput({ step = 'any', min = '0', max, placeholder, value = '' }) {
  return h('input', { type: 'number', class: 'input', step, min, max, placeholder, value, inputmode: 'decimal' });
}

/**
 * modelForm({values, mode, apiKeyHint}) -> {el, fields, values(), validate(), lock(bool), setServerError(error)}
 * mode 'create' or 'edit'. In edit mode the API key is optional until the base URL changes.
 */
export function modelForm({ values = {}, mode = 'create', apiKeyHint = '' } = {}) {
  const originalBaseUrl = values.base_url ?? '';
  const secret = secretInput({ placeholder: mode === 'edit' ? `Unchanged${apiKeyHint ? ` (${apiKeyHint})` : ''}` : 'sk-…' });
  const keyHintCreate = 'Stored encrypted; relaygate shows only a masked hint afterwards.';
  const keyHintEdit = 'Leave empty to keep the current key. Required when you change the base URL.';

  const fields = {
    model_type: field({
      name: 'model_type', label: 'Type', required: true,
      control: selectInput(MODEL_TYPES, { value: values.model_type ?? '', placeholder: 'Select a type' }),
      hint: 'What the endpoint serves; decides which router calls it takes.',
    }),
    base_url: field({
      name: 'base_url', label: 'Base URL', required: true,
      control: textInput({ value: values.base_url ?? '', placeholder: 'https://api.groq.com/openai/v1', inputmode: 'url' }),
      hint: 'The API root, e.g. https://api.openai.com/v1.',
    }),
    api_key: field({
      name: 'api_key', label: 'API Key', required: mode === 'create',
      control: secret.input, wrapper: secret.el,
      hint: mode === 'edit' ? keyHintEdit : keyHintCreate,
    }),
    display_name: field({
      name: 'display_name', label: 'Model Name', required: true,
      control: textInput({ value: values.display_name ?? '', placeholder: 'Custom Groq Llama 3.3' }),
      hint: 'Shown in the router and across the Studio.',
    }),
    model_id: field({
      name: 'model_id', label: 'Model ID', required: true,
      control: textInput({ value: values.model_id ?? '', placeholder: 'llama-3.3-70b-versatile' }),
      hint: 'The identifier as your provider defines it.',
    }),
    region: field({
      name: 'region', label: 'Region', required: true,
      control: selectInput(REGIONS, { value: values.region ?? '', placeholder: 'Select a region' }),
      hint: 'Where the endpoint runs (data residency).',
    }),
    provider: field({
      name: 'provider', label: 'Provider slug',
      control: textInput({ value: values.provider ?? '', placeholder: 'groq' }),
      hint: 'First half of the router id. Empty: taken from the base URL.',
    }),
    description: field({
      name: 'description', label: 'Description', className: 'field-wide',
      control: textArea({ value: values.description ?? '', rows: 2, placeholder: 'What this model is used for' }),
      hint: 'A short note, at most 128 characters.',
    }),
    max_tokens: field({
      name: 'max_tokens', label: 'Max Tokens',
      control: numberInput({ step: '1', min: '1', value: values.max_tokens ?? '', placeholder: 'e.g. 4096' }),
      hint: 'Used when a request sets no limit.',
    }),
    temperature: field({
      name: 'temperature', label: 'Temperature',
      control: numberInput({ step: '0.1', max: '2', value: values.temperature ?? '', placeholder: 'e.g. 0.7' }),
      hint: 'Used when a request sets none (0 to 2).',
    }),
    input_cost: field({
      name: 'input_cost', label: 'Input Price (per 1M tokens)',
      control: numberInput({ value: values.input_cost ?? '', placeholder: 'USD, e.g. 0.59' }),
      hint: 'USD per million prompt tokens.',
    }),
    output_cost: field({
      name: 'output_cost', label: 'Output Price (per 1M tokens)',
      control: numberInput({ value: values.output_cost ?? '', placeholder: 'USD, e.g. 0.79' }),
      hint: 'USD per million completion tokens.',
    }),
    cost_per_image: field({
      name: 'cost_per_image', label: 'Price per image',
      control: numberInput({ value: values.cost_per_image ?? '', placeholder: 'USD, e.g. 0.04' }),
      hint: 'USD per generated image.',
    }),
  };
  const toggles = CAPABILITIES.map((cap) => toggle({ ...cap, checked: Boolean(values[cap.name]) }));

  const routerPreview = h('p', { class: 'router-preview', 'aria-live': 'polite' });
  const keyNote = h('p', { class: 'field-note', 'aria-live': 'polite' });

  const el = h('div', { class: 'model-form' },
    section('Connection', 'How relaygate reaches the model.',
      h('div', { class: 'grid-2' }, fields.model_type.el, fields.base_url.el),
      fields.api_key.el, keyNote),
    section('General', 'How the model is named and where it runs.',
      h('div', { class: 'grid-2' }, fields.display_name.el, fields.model_id.el, fields.region.el, fields.provider.el),
      routerPreview,
      fields.description.el),
    section('Advanced', 'Defaults applied to requests that leave them out, prices for cost tracking, and capabilities.',
      h('div', { class: 'grid-2' }, fields.max_tokens.el, fields.temperature.el, fields.input_cost.el, fields.output_cost.el,
        fields.cost_per_image.el),
      h('fieldset', { class: 'capabilities' }, h('legend', null, 'Capabilities'),
        h('div', { class: 'toggle-grid' }, toggles.map((t) => t.el)))));

  function read() {
    const result = {};
    // A number input holding text it cannot parse reports '' as its value: keep it visible as bad.
    for (const [name, item] of Object.entries(fields)) result[name] = item.control.validity?.badInput ? 'not a number' : item.control.value;
    for (const t of toggles) result[t.name] = t.control.checked;
    return result;
  }

  function baseUrlChanged() {
    return mode === 'edit' && fields.base_url.control.value.trim() !== originalBaseUrl.trim();
  }

  const options = () => ({ requireApiKey: mode === 'create' || baseUrlChanged() });

  function refresh() {
    const current = read();
    const isImage = current.model_type === 'image';
    fields.cost_per_image.el.hidden = !isImage;
    if (!isImage) fields.cost_per_image.setError('');
    const provider = current.provider.trim();
    const modelId = current.model_id.trim() || 'model-id';
    routerPreview.replaceChildren('Router id: ',
      h('code', null, provider ? `${provider}/${modelId}` : `<provider>/${modelId}`),
      provider ? '' : ' (provider from the base URL)');
    if (mode === 'edit') {
      const changed = baseUrlChanged();
      fields.api_key.setRequired(changed);
      keyNote.textContent = changed
        ? 'The base URL changed: enter the API key for the new endpoint. Saving validates the connection again.'
        : '';
    }
  }

  liveValidation(fields, (name) => fieldError(name, read(), options()));
  el.addEventListener('input', refresh);
  el.addEventListener('change', refresh);
  refresh();

  return {
    el,
    fields,
    values: read,
    baseUrlChanged,
    /** Check every field, show the errors, focus the first; returns true when the form is valid. */
    validate() {
      const errors = validateModel(read(), options());
      if (read().model_type !== 'image') delete errors.cost_per_image;
      return showErrors(fields, errors) === 0;
    },
    lock(locked) {
      for (const control of el.querySelectorAll('input, select, textarea, button')) control.disabled = locked;
    },
    /** Put a server error on its field when the server named one (error.param); returns true if it did. */
    setServerError(error) {
      const item = error?.param ? fields[error.param] : null;
      if (!item) return false;
      item.setError(error.message);
      return true;
    },
  };
}
