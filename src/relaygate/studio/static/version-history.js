// A deployment's versions: who made each and when, with its note; two of them compared side by
// side; and "Roll back to this version", which makes an old version's content current as a new
// version (history is never rewritten).

import { api, query } from './api.js';
import { h, replace } from './dom.js';
import { DASH, dateTime, relativeTime } from './format.js';
import { selectInput } from './forms.js';
import { apiPath } from './deployment-rules.js';
import { badge, confirmDialog, notice } from './ui.js';
import { versionDiff } from './version-diff.js';

const PAGE = 50;

/** Who made a version: the API key's name when the key is known, else its id. */
function who(keyId, keyNames) {
  if (!keyId) return DASH;
  const name = keyNames.get(keyId);
  return name ? h('span', { title: `API key ${keyId}` }, name) : h('code', null, keyId);
}

// The versions list answers the SDK's item shape plus relaygate's own number, note and content.
const numberOf = (item) => item.number ?? Number.parseInt(String(item.version ?? '').replace(/^v/, ''), 10);

/** Every version of the deployment, newest first. */
export async function allVersions(key, signal) {
  const found = [];
  let after = null;
  for (;;) {
    const page = await api(`${apiPath(key)}/versions${query({ limit: PAGE, starting_after: after })}`, { signal });
    found.push(...(page?.data ?? []));
    if (!page?.has_more || !page.data?.length) break;
    after = page.data.at(-1)._id ?? page.data.at(-1).id;
  }
  return found.map((item) => ({ ...item, number: numberOf(item) })).sort((a, b) => b.number - a.number);
}

function compareControls(versions, onPick) {
  const options = versions.map((v) => [String(v.number), `Version ${v.number}${v.status === 'live' ? ' (current)' : ''}`]);
  const left = selectInput(options, { value: String(versions[1]?.number ?? versions[0].number) });
  const right = selectInput(options, { value: String(versions[0].number) });
  left.id = 'compare-left';
  right.id = 'compare-right';
  const pick = () => onPick(Number(left.value), Number(right.value));
  left.addEventListener('change', pick);
  right.addEventListener('change', pick);
  return {
    el: h('div', { class: 'toolbar compare-toolbar' },
      h('div', { class: 'toolbar-field' }, h('label', { for: 'compare-left' }, 'Compare'), left),
      h('div', { class: 'toolbar-field' }, h('label', { for: 'compare-right' }, 'with'), right)),
    pick,
    set(a, b) {
      left.value = String(a);
      right.value = String(b);
      pick();
    },
  };
}

/**
 * versionHistory({deployment, versions, keyNames, onRolledBack}) -> element
 * keyNames: API key id -> name (who made a version). onRolledBack(updated, fromNumber) runs after a rollback.
 */
export function versionHistory({ deployment, versions, keyNames = new Map(), onRolledBack }) {
  const errorSlot = h('div', { class: 'error-slot' });
  const diffSlot = h('div', { class: 'diff-slot', 'aria-live': 'polite' });
  const byNumber = new Map(versions.map((v) => [v.number, v]));
  const controls = versions.length > 1 ? compareControls(versions, (a, b) => {
    const before = byNumber.get(a);
    const after = byNumber.get(b);
    replace(diffSlot, a === b
      ? h('p', { class: 'muted' }, 'Pick two different versions to see what changed.')
      : versionDiff(before.content, after.content, [`Version ${a}`, `Version ${b}`]));
  }) : null;

  async function rollBack(version, button) {
    const confirmed = await confirmDialog({
      title: `Roll back to version ${version.number}?`,
      message: [h('p', null, `Version ${version.number}'s content becomes current as version ${deployment.version + 1}. `,
        'Calls get it within a second.'),
      h('p', null, `Version ${deployment.version} and every other version stay in the history.`)],
      confirmLabel: 'Roll back',
    });
    if (!confirmed) return;
    button.disabled = true;
    try {
      const updated = await api(`${apiPath(deployment.key)}/rollback`, { method: 'POST', body: { version: version.number } });
      onRolledBack(updated, version.number);
    } catch (error) {
      button.disabled = false;
      replace(errorSlot, notice('error', `The rollback did not happen. ${error.message}`));
    }
  }

  const rows = versions.map((version) => {
    const current = version.number === deployment.version;
    const rollback = current ? null : h('button', { type: 'button', class: 'button button-small' }, 'Roll back to this version');
    rollback?.addEventListener('click', () => rollBack(version, rollback));
    rollback?.setAttribute('aria-label', `Roll back to version ${version.number}`);
    const compare = h('button', { type: 'button', class: 'button button-small button-quiet' }, 'Compare with current');
    compare.setAttribute('aria-label', `Compare version ${version.number} with the current version`);
    compare.addEventListener('click', () => controls?.set(version.number, deployment.version));
    return h('tr', null,
      h('td', null, h('strong', null, `Version ${version.number}`), ' ', current ? badge('Current', 'success') : null),
      h('td', { class: 'nowrap', title: dateTime(version.timestamp) }, relativeTime(version.timestamp)),
      h('td', null, version.note || version.notes || DASH),
      h('td', null, who(version.user_id, keyNames)),
      h('td', { class: 'actions-cell' }, h('div', { class: 'row-actions' }, current || !controls ? null : compare, rollback)));
  });

  const el = h('div', { class: 'version-history' },
    errorSlot,
    h('div', { class: 'table-wrap' }, h('table', { class: 'table table-compact' },
      h('caption', { class: 'visually-hidden' }, 'Versions, newest first'),
      h('thead', null, h('tr', null, ['Version', 'When', 'Note', 'By', ''].map((name) => h('th', { scope: 'col' }, name)))),
      h('tbody', null, rows))),
    controls ? h('section', { class: 'card compare-card', 'aria-labelledby': 'compare-title' },
      h('h2', { id: 'compare-title' }, 'Compare versions'), controls.el, diffSlot)
      : h('p', { class: 'muted' }, 'Only one version so far: save a change to compare versions.'));
  controls?.pick();
  return el;
}
