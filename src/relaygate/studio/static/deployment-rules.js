// What a deployment is made of, in the browser: its key rules, the {{variables}} of its messages,
// the content fields a version stores, and the Studio paths and API paths that name one.
// Pure functions only (no DOM), so node can test them too.

export const KEY_MAX = 128;
export const KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const KEY_RULES = 'Letters, digits, “_”, “.”, “-”; starts with a letter or digit; at most 128.';

// The same placeholder the server renders (src/relaygate/deployments/template.py).
const PLACEHOLDER = /\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;

export const ROLES = ['system', 'developer', 'user', 'assistant', 'tool'];

/** The fields of a version's content, in the order the Studio shows and compares them. */
export const CONTENT_FIELDS = ['display_name', 'description', 'model', 'messages', 'parameters', 'variants',
  'fallbacks', 'retry', 'timeout', 'cache'];

export const LIMITS = {
  retries: 5,
  fallbacks: 10,
  callTimeoutMs: 3_600_000,
  cacheTtl: 259_200,
  defaultCacheTtl: 1800,
};

/** '' when the key is acceptable, else what is wrong with it, in words. */
export function keyError(key) {
  if (!key) return 'Enter a key: applications call the deployment by it.';
  if (key.length > KEY_MAX) return `Use at most ${KEY_MAX} characters (this has ${key.length}).`;
  if (!/^[A-Za-z0-9]/.test(key)) return 'Start the key with a letter or a digit.';
  const bad = [...new Set(key.replace(/[A-Za-z0-9_.-]/g, ''))];
  if (bad.length) {
    const shown = bad.map((c) => (c === ' ' ? 'spaces' : `“${c}”`)).join(', ');
    return `The key cannot contain ${shown}: use letters, digits, “_”, “.” or “-”.`;
  }
  return '';
}

/** The texts of a message that may hold placeholders: its string content, or its parts' text and image url. */
function texts(message) {
  const content = message?.content;
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  const found = [];
  for (const part of content) {
    if (part && typeof part.text === 'string') found.push(part.text);
    if (part && typeof part.image_url?.url === 'string') found.push(part.image_url.url);
  }
  return found;
}

/** Variable names in a text, in order of first appearance, each once. */
export function textVariables(text) {
  const found = new Set();
  for (const match of String(text).matchAll(PLACEHOLDER)) found.add(match[1]);
  return [...found];
}

/** Variable names the messages need, in order of first appearance, each once. */
export function variablesOf(messages) {
  const found = new Set();
  for (const message of messages ?? []) for (const text of texts(message)) for (const name of textVariables(text)) found.add(name);
  return [...found];
}

/** Every variable the content needs: the default's and every variant's messages. */
export function contentVariables(content) {
  const names = new Set(variablesOf(content?.messages));
  for (const variant of content?.variants ?? []) for (const name of variablesOf(variant.messages)) names.add(name);
  return [...names];
}

/** A text cut into plain and placeholder pieces: [{text, variable: name | null}]. */
export function templatePieces(text) {
  const pieces = [];
  let last = 0;
  for (const match of String(text).matchAll(PLACEHOLDER)) {
    if (match.index > last) pieces.push({ text: text.slice(last, match.index), variable: null });
    pieces.push({ text: match[0], variable: match[1] });
    last = match.index + match[0].length;
  }
  if (last < text.length) pieces.push({ text: text.slice(last), variable: null });
  return pieces;
}

/** The stored content of a deployment object (our GET answer), for editing and comparing. */
export function contentOf(deployment) {
  const content = {};
  for (const name of CONTENT_FIELDS) content[name] = deployment?.[name] ?? null;
  content.messages ??= [];
  content.parameters ??= {};
  content.variants ??= [];
  content.fallbacks ??= [];
  return content;
}

/** The value with every object's keys in sorted order (arrays keep theirs). */
export function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, sortKeys(value[key])]));
  }
  return value;
}

/** JSON text in which equal values read the same whatever their key order. */
export function canonical(value) {
  return JSON.stringify(sortKeys(value ?? null));
}

/** The fields of `next` that differ from `previous`: what a PATCH has to send. */
export function changedFields(next, previous) {
  const changed = {};
  for (const name of CONTENT_FIELDS) {
    if (canonical(next[name]) !== canonical(previous[name])) changed[name] = next[name] ?? null;
  }
  return changed;
}

/** "variants[1].messages[0].content" -> ['variants', 1, 'messages', 0, 'content'] */
export function paramPath(param) {
  if (typeof param !== 'string' || !param) return [];
  const path = [];
  for (const match of param.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) path.push(match[2] !== undefined ? Number(match[2]) : match[1]);
  return path;
}

/** A message's content as the text the editor shows: the string, or its parts as JSON. */
export function contentText(content) {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  return JSON.stringify(content, null, 2);
}

export const studioPath = (key) => `/studio/deployments/${encodeURIComponent(key)}`;
export const apiPath = (key) => `/v2/deployments/${encodeURIComponent(key)}`;
export const routerModel = (key) => `deployment/${key}`;

/** Chat models a deployment may use: enabled ones, plus any it already names (so editing keeps them). */
export function chatModels(models, keep = []) {
  return models
    .filter((model) => model.model_type === 'chat' && (model.enabled !== false || keep.includes(model.router_id)))
    .sort((a, b) => String(a.display_name).localeCompare(String(b.display_name)));
}

/** [value, label] options for a model select. */
export function modelOptions(models) {
  return models.map((model) => [model.router_id,
    `${model.display_name} (${model.router_id})${model.enabled === false ? ' · disabled' : ''}`]);
}
