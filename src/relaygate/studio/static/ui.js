// Small shared pieces of interface: headers, badges, notices, copy buttons, the confirm dialog.

import { h, uid } from './dom.js';

/** Say something to screen-reader users without moving focus. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (!region) return;
  region.textContent = '';
  // A new text node after a tick is announced even when the message repeats.
  setTimeout(() => { region.textContent = message; }, 30);
}

export function pageHeader(title, { subtitle, actions = [], breadcrumb } = {}) {
  return h('header', { class: 'page-header' },
    breadcrumb ? h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' }, breadcrumb) : null,
    h('div', { class: 'page-header-row' },
      h('div', { class: 'page-title' },
        h('h1', { tabindex: '-1' }, title),
        subtitle ? h('p', { class: 'subtitle' }, subtitle) : null),
      actions.length ? h('div', { class: 'page-actions' }, actions) : null));
}

export function badge(text, tone = 'neutral', title) {
  return h('span', { class: `badge badge-${tone}`, title }, text);
}

const VALIDATION_TONES = { passed: 'success', failed: 'danger', warning: 'warning', skipped: 'neutral' };
const VALIDATION_WORDS = { passed: 'Passed', failed: 'Failed', warning: 'Warning', skipped: 'Skipped' };

export function statusBadge(status, title) {
  if (!status) return badge('Not validated', 'neutral', title);
  return badge(VALIDATION_WORDS[status] ?? status, VALIDATION_TONES[status] ?? 'neutral', title);
}

/** An inline message. kind: 'error' (role=alert), 'success', 'info', 'warning' (role=status). */
export function notice(kind, message, extra) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' },
    h('p', null, message), extra ?? null);
}

export function emptyState(title, text, action) {
  return h('div', { class: 'empty-state' },
    h('h2', null, title),
    text ? h('p', null, text) : null,
    action ?? null);
}

export function loadingBlock(label = 'Loading…') {
  return h('div', { class: 'loading-block', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), label);
}

/** A button that copies getText() to the clipboard and says so. */
export function copyButton(getText, { label = 'Copy', describedBy, className = 'button button-small' } = {}) {
  const button = h('button', { type: 'button', class: className, 'aria-describedby': describedBy }, label);
  let timer = 0;
  button.addEventListener('click', async () => {
    const ok = await copyText(getText());
    button.textContent = ok ? 'Copied' : 'Copy failed';
    announce(ok ? 'Copied to the clipboard.' : 'Could not copy. Select the text and copy it by hand.');
    clearTimeout(timer);
    timer = setTimeout(() => { button.textContent = label; }, 2000);
  });
  return button;
}

/** A block of code with a Copy button; `label` names it ("Python") for the button and screen readers. */
export function codeBlock(text, label) {
  const id = uid(`code-${label.toLowerCase().replace(/[^a-z0-9]+/g, '-')}`);
  return h('div', { class: 'code-block' },
    h('div', { class: 'code-toolbar' }, copyButton(() => text, { label: `Copy ${label}`, describedBy: id })),
    h('pre', { id, tabindex: '0', 'aria-label': `${label} example` }, h('code', null, text)));
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    // Clipboard API refused (no permission or not a secure context): fall back to a selection.
    const area = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' });
    area.value = text;
    document.body.append(area);
    area.select();
    let ok = false;
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    area.remove();
    return ok;
  }
}

/**
 * A modal confirmation. Resolves true when confirmed. The safe choice (Cancel) has the focus first;
 * Escape cancels.
 */
export function confirmDialog({ title, message, confirmLabel = 'Confirm', danger = false }) {
  return new Promise((resolve) => {
    const titleId = uid('dialog-title');
    const textId = uid('dialog-text');
    const cancel = h('button', { type: 'button', class: 'button', value: 'cancel' }, 'Cancel');
    const confirm = h('button', { type: 'button', class: danger ? 'button button-danger' : 'button button-primary' }, confirmLabel);
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId, 'aria-describedby': textId },
      h('h2', { id: titleId }, title),
      h('div', { id: textId, class: 'dialog-body' }, Array.isArray(message) ? message : h('p', null, message)),
      h('div', { class: 'dialog-actions' }, cancel, confirm));
    const opener = document.activeElement;
    let answer = false;
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', () => { answer = true; dialog.close(); });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (opener instanceof HTMLElement && opener.isConnected) opener.focus();
      resolve(answer);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

/** Accessible tabs: a tablist with arrow-key navigation and one visible panel. */
export function tabs(items, { label }) {
  const list = h('div', { class: 'tabs', role: 'tablist', 'aria-label': label });
  const panels = h('div', { class: 'tab-panels' });
  const buttons = items.map((item, index) => {
    const tabId = uid('tab');
    const panelId = uid('panel');
    const button = h('button', {
      type: 'button', role: 'tab', id: tabId, class: 'tab', 'aria-controls': panelId,
      'aria-selected': index === 0 ? 'true' : 'false', tabindex: index === 0 ? '0' : '-1',
    }, item.label);
    const panel = h('div', { role: 'tabpanel', id: panelId, 'aria-labelledby': tabId, class: 'tab-panel', hidden: index !== 0 },
      item.content);
    panels.append(panel);
    list.append(button);
    return { button, panel };
  });
  const select = (index) => {
    buttons.forEach(({ button, panel }, i) => {
      button.setAttribute('aria-selected', i === index ? 'true' : 'false');
      button.tabIndex = i === index ? 0 : -1;
      panel.hidden = i !== index;
    });
    buttons[index].button.focus();
  };
  buttons.forEach(({ button }, index) => {
    button.addEventListener('click', () => select(index));
    button.addEventListener('keydown', (event) => {
      const moves = { ArrowRight: 1, ArrowLeft: -1, Home: -index, End: buttons.length - 1 - index };
      if (!(event.key in moves)) return;
      event.preventDefault();
      select((index + moves[event.key] + buttons.length) % buttons.length);
    });
  });
  return h('div', { class: 'tabs-container' }, list, panels);
}

/** A message shown once on the next page (e.g. "Model added"), set before navigating. */
let pendingFlash = null;
export function setFlash(kind, message) {
  pendingFlash = { kind, message };
}
export function takeFlash() {
  const flash = pendingFlash;
  pendingFlash = null;
  return flash;
}
