// Pieces both request log pages use: an entry's status, model and key as words (log-rules.js: the pure part).

import { h } from './dom.js';
import { DASH } from './format.js';
import { badge } from './ui.js';

export { filterQuery, prettyBody } from './log-rules.js';

export const logPath = (requestId) => `/studio/logs/${encodeURIComponent(requestId)}`;

export function statusBadge(entry) {
  const code = Number(entry.status);
  if (!code) return badge(entry.error?.code === 'client_disconnected' ? 'gone' : 'no answer', 'danger');
  if (code < 400) return badge(String(code), 'success');
  return badge(String(code), code >= 500 ? 'danger' : 'warning', entry.error?.code ?? undefined);
}

/** The model asked for, and the one that answered when another did (a fallback). */
export function modelText(entry) {
  const { asked, used, unknown } = entry.model ?? {};
  if (unknown) return [h('code', null, asked ?? DASH), ' ', badge(entry.error?.code === 'model_disabled' ? 'disabled' : 'unknown', 'warning')];
  if (used && asked && used !== asked) return [h('code', null, asked), ' → ', h('code', null, used)];
  return h('code', null, used ?? asked ?? DASH);
}

export function keyText(entry) {
  const key = entry.key;
  if (!key) return DASH;
  return key.name ? `${key.name} (${key.prefix ?? ''}…)` : key.id;
}
