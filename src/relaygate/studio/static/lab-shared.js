// What the Datasets, Evaluators and Experiments pages share: paging through the SDKs' lists, the
// workspace's models and deployments for pickers, a file sent as it is, downloads that carry the
// admin key, how a datapoint and a score read.

import { ApiError, api, errorFromBody, networkError, query, send } from './api.js';
import { h } from './dom.js';
import { DASH } from './format.js';
import { adminKey } from './session.js';
import { badge } from './ui.js';

const PAGE = 200;

/** Every object of an SDK list (`{data, has_more}`, cursor `starting_after` = the last id). */
export async function listAll(path, signal, { limit = PAGE, max = 5000, extra = {} } = {}) {
  const found = [];
  let after = null;
  for (;;) {
    const page = await api(`${path}${query({ ...extra, limit, starting_after: after })}`, { signal });
    const data = page?.data ?? [];
    found.push(...data);
    if (!page?.has_more || !data.length || found.length >= max) return found;
    const last = data.at(-1);
    after = last._id ?? last.id ?? last.datapoint_id;
  }
}

/** The workspace's enabled models of the given types (all types when none is given). */
export async function enabledModels(signal, types = null) {
  const list = await api('/v2/models', { signal });
  return (list?.data ?? []).filter((model) => model.enabled !== false && (!types || types.includes(model.model_type)));
}

/** The text of a datapoint's question: its last user message, else its inputs. */
export function datapointText(point) {
  const messages = Array.isArray(point?.messages) ? point.messages : [];
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message?.role !== 'user') continue;
    const text = contentText(message.content);
    if (text) return text;
  }
  const inputs = point?.inputs && typeof point.inputs === 'object' ? Object.entries(point.inputs) : [];
  if (inputs.length) return inputs.map(([name, value]) => `${name}: ${typeof value === 'string' ? value : JSON.stringify(value)}`).join(' · ');
  return '';
}

export function contentText(content) {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((part) => (typeof part === 'string' ? part : part?.text ?? (part?.type ? `[${part.type}]` : ''))).join(' ').trim();
  }
  return content === null || content === undefined ? '' : JSON.stringify(content);
}

export function snippet(text, length = 90) {
  const flat = String(text ?? '').replace(/\s+/g, ' ').trim();
  return flat.length > length ? `${flat.slice(0, length - 1)}…` : flat;
}

/** A number as a score reads: at most 3 decimals. */
export function scoreNumber(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return DASH;
  return String(Math.round(value * 1000) / 1000);
}

/** One evaluator's score as a badge: colour and words ("Pass 1", "Fail 0", "Error"). */
export function scoreBadge(score, { withKey = true } = {}) {
  const name = withKey && score?.key ? `${score.key}: ` : '';
  if (!score) return badge(`${name}not scored`, 'neutral');
  if (score.error) return badge(`${name}error`, 'warning', score.error);
  const value = scoreNumber(score.value);
  if (score.passed === true) return badge(`${name}✓ pass ${value}`, 'success', score.reason ?? undefined);
  if (score.passed === false) return badge(`${name}✗ fail ${value}`, 'danger', score.reason ?? undefined);
  return badge(`${name}${value}`, 'info', score.reason ?? undefined);
}

const EXPERIMENT_TONES = {
  draft: 'neutral', running: 'info', paused: 'warning', completed: 'success',
  cancelled: 'neutral', budget_reached: 'warning', failed: 'danger',
};
const EXPERIMENT_WORDS = {
  draft: 'Draft', running: 'Running', paused: 'Paused', completed: 'Completed',
  cancelled: 'Cancelled', budget_reached: 'Budget reached', failed: 'Failed',
};

export function experimentStatus(status) {
  return badge(EXPERIMENT_WORDS[status] ?? status, EXPERIMENT_TONES[status] ?? 'neutral');
}

/** A file sent as the request's whole body (an import): returns the JSON answer. An error keeps
 * the body's per-line `errors` as `.lines`. */
export async function sendFile(path, file, { signal } = {}) {
  const headers = { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream' };
  const key = adminKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  let response;
  try {
    response = await fetch(path, { method: 'POST', body: file, headers, signal, cache: 'no-store' });
  } catch (cause) {
    throw networkError(cause);
  }
  const text = await response.text();
  let body = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: the error says so in words
  }
  if (response.ok) return body;
  const error = errorFromBody(response.status, body);
  error.lines = Array.isArray(body?.errors) ? body.errors : [];
  error.lineCount = typeof body?.error_count === 'number' ? body.error_count : error.lines.length;
  throw error;
}

/** Download what a GET answers (it needs the admin key, so a plain link cannot fetch it). */
export async function download(path, filename) {
  const response = await send(path, { accept: '*/*' });
  const blob = await response.blob();
  const url = URL.createObjectURL(blob);
  const link = h('a', { href: url, download: filename, class: 'visually-hidden' }, filename);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Buttons that download an export as CSV and as JSONL; failures go to `onError`. */
export function exportButtons(path, stem, onError, label = 'Export') {
  const make = (format, text) => {
    const button = h('button', { type: 'button', class: 'button button-small', 'data-format': format }, text);
    button.addEventListener('click', async () => {
      button.disabled = true;
      try {
        await download(`${path}${query({ format })}`, `${stem}.${format}`);
      } catch (error) {
        onError(error instanceof ApiError ? error.message : String(error?.message ?? error));
      } finally {
        button.disabled = false;
      }
    });
    return button;
  };
  return h('div', { class: 'export-buttons', role: 'group', 'aria-label': label }, make('csv', `${label} CSV`), make('jsonl', `${label} JSONL`));
}

/** The field of a form an API error's `param` names (`function_params.keywords[2]` -> keywords). */
export function fieldFor(fields, param, aliases = {}) {
  if (!param) return null;
  const text = String(param);
  if (aliases[text]) return fields[aliases[text]] ?? null;
  if (fields[text]) return fields[text];
  const parts = text.replace(/\[\d+\]/g, '').split('.');
  for (let i = parts.length - 1; i >= 0; i -= 1) {
    const name = parts.slice(i).join('.');
    if (aliases[name]) return fields[aliases[name]] ?? null;
    if (fields[parts[i]]) return fields[parts[i]];
  }
  return null;
}

/** Clear a field's error as soon as it is edited (the submit checks it again). */
export function clearOnEdit(items) {
  for (const item of items) {
    const clear = () => { if (item.control.getAttribute('aria-invalid') === 'true') item.setError(''); };
    item.control.addEventListener('input', clear);
    item.control.addEventListener('change', clear);
  }
}
