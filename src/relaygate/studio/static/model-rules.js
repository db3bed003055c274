// What a model's fields may hold: the same rules as POST /v2/models/openai-like, checked in the
// browser first so most mistakes are caught before a round trip. The server stays the judge.

export const MAX_LENGTH = 128;

export const MODEL_TYPES = [
  ['chat', 'Chat Completion'],
  ['completion', 'Completion'],
  ['embedding', 'Embedding'],
  ['image', 'Image'],
  ['rerank', 'Rerank'],
  ['moderation', 'Moderation'],
  ['tts', 'Text to speech'],
  ['stt', 'Speech to text'],
];

export const REGIONS = [
  ['us', 'United States'],
  ['eu', 'Europe'],
  ['uk', 'United Kingdom'],
  ['ca', 'Canada'],
  ['ap', 'Asia Pacific'],
  ['other', 'Other'],
];

export const CAPABILITIES = [
  { name: 'supports_tool_calling', label: 'Tool calling', hint: 'The model can call functions (tools).' },
  { name: 'supports_strict_tool', label: 'Strict tools', hint: 'Tool arguments follow the JSON schema exactly (strict: true).' },
  { name: 'supports_vision', label: 'Vision', hint: 'Messages may include images.' },
  { name: 'supports_image_edit', label: 'Image edit', hint: 'Serves /images/edits (image models).' },
  { name: 'has_reasoning', label: 'Reasoning', hint: 'The model thinks before it answers (reasoning tokens).' },
];

const TYPE_LABELS = Object.fromEntries(MODEL_TYPES);
const REGION_LABELS = Object.fromEntries(REGIONS);

export const typeLabel = (type) => TYPE_LABELS[type] ?? type ?? '';
export const regionLabel = (region) => REGION_LABELS[region] ?? region ?? '';

export const STRING_FIELDS = ['base_url', 'api_key', 'display_name', 'model_id', 'region', 'description', 'provider'];
export const NUMBER_FIELDS = ['max_tokens', 'temperature', 'input_cost', 'output_cost', 'cost_per_image'];
const REQUIRED = {
  model_type: 'Choose the type of model.',
  base_url: 'Enter the base URL of the OpenAI-compatible API.',
  api_key: 'Enter the API key for this endpoint.',
  display_name: 'Enter a name for the model.',
  model_id: "Enter the model's ID as the provider names it.",
  region: 'Choose a region.',
};
const PROVIDER_SLUG = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const MAX_PRICE = 1_000_000;
const MAX_TOKENS = 10_000_000;

function checkUrl(text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    return 'Enter a full URL, such as https://api.openai.com/v1.';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'The URL must start with http:// or https://.';
  if (!url.hostname) return 'The URL needs a host name.';
  return '';
}

function checkNumber(name, text) {
  if (text === '') return '';
  const value = Number(text);
  if (!Number.isFinite(value)) return 'Enter a number.';
  if (name === 'max_tokens') {
    if (!Number.isInteger(value) || value < 1) return 'Enter a whole number of at least 1.';
    return value > MAX_TOKENS ? `Enter at most ${MAX_TOKENS.toLocaleString('en-US')}.` : '';
  }
  if (name === 'temperature') return value < 0 || value > 2 ? 'Enter a temperature from 0 to 2.' : '';
  if (value < 0) return 'A price cannot be negative.';
  if ((text.split('.')[1] ?? '').length > 10) return 'Use at most 10 decimal places.';
  return value > MAX_PRICE ? `Enter at most ${MAX_PRICE.toLocaleString('en-US')} USD.` : '';
}

/**
 * The error message for one field ('' when it is fine).
 * values: the form's raw strings (checkboxes as booleans); options.requireApiKey: false when editing
 * a model whose connection did not change.
 */
export function fieldError(name, values, { requireApiKey = true } = {}) {
  const raw = values[name];
  const text = typeof raw === 'string' ? raw.trim() : raw;
  const required = name === 'api_key' ? requireApiKey : name in REQUIRED;
  if (required && (text === '' || text === undefined || text === null)) return REQUIRED[name];
  if (STRING_FIELDS.includes(name) && typeof text === 'string' && text.length > MAX_LENGTH) {
    return `Use at most ${MAX_LENGTH} characters (this has ${text.length}).`;
  }
  if (name === 'base_url' && text) return checkUrl(text);
  if (name === 'provider' && text && !PROVIDER_SLUG.test(text.toLowerCase())) {
    return text.length > 64
      ? 'Use at most 64 characters for the provider slug.'
      : 'Start with a letter or digit; then letters, digits, dots, dashes or underscores, such as groq or my-vllm.';
  }
  if (NUMBER_FIELDS.includes(name)) return checkNumber(name, text ?? '');
  return '';
}

export function validateModel(values, options) {
  const errors = {};
  for (const name of ['model_type', ...STRING_FIELDS, ...NUMBER_FIELDS]) {
    const message = fieldError(name, values, options);
    if (message) errors[name] = message;
  }
  return errors;
}

/** The request body for POST /v2/models/openai-like from valid form values. Empty optionals are left out. */
export function createBody(values) {
  const body = {};
  for (const name of ['model_type', ...STRING_FIELDS]) {
    const text = (values[name] ?? '').trim();
    if (text) body[name] = text;
  }
  for (const name of NUMBER_FIELDS) {
    const text = (values[name] ?? '').trim();
    if (text !== '' && (name !== 'cost_per_image' || values.model_type === 'image')) body[name] = Number(text);
  }
  for (const { name } of CAPABILITIES) body[name] = Boolean(values[name]);
  return body;
}

/**
 * The body for PATCH /v2/models/openai-like/{id}: the required fields plus whatever changed.
 * A cleared optional field is sent as null. The API key goes only when one was typed.
 */
export function patchBody(values, original) {
  const full = createBody(values);
  const body = { display_name: full.display_name, model_type: full.model_type, region: full.region };
  for (const name of [...STRING_FIELDS, ...NUMBER_FIELDS, ...CAPABILITIES.map((c) => c.name)]) {
    if (name === 'api_key') continue;
    const now = full[name] ?? null;
    const before = original[name] ?? null;
    if (now !== before) body[name] = now;
  }
  if (full.api_key) body.api_key = full.api_key;
  return body;
}

/** The form's starting values for an existing model (a Model object of GET /v2/models/{id}). */
export function valuesFromModel(model) {
  const metadata = model.metadata ?? {};
  const configuration = model.configuration ?? {};
  const str = (value) => (value === null || value === undefined ? '' : String(value));
  return {
    model_type: str(model.model_type),
    base_url: str(configuration.base_url),
    api_key: '',
    display_name: str(model.display_name),
    model_id: str(model.model_id),
    region: str(configuration.region ?? metadata.region),
    description: str(model.description),
    provider: str(model.provider),
    max_tokens: str(metadata.max_tokens),
    temperature: str(metadata.temperature),
    input_cost: str(model.input_cost),
    output_cost: str(model.output_cost),
    cost_per_image: str(metadata.cost_per_image),
    supports_tool_calling: Boolean(metadata.supports_tool_calling),
    supports_strict_tool: Boolean(metadata.supports_strict_tool),
    supports_vision: Boolean(metadata.supports_vision),
    supports_image_edit: Boolean(metadata.supports_image_edit),
    has_reasoning: Boolean(metadata.supports_reasoning ?? metadata.has_reasoning),
  };
}
