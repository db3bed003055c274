// The prompt template editor: messages (role + content) that can be added, removed and reordered,
// each content box highlighting its {{variables}} as they are typed, and the variables found listed.
//
// The highlight is a <pre> drawn behind a textarea whose own text is transparent: both share one
// grid cell, font and padding, so the marks sit exactly under the typed placeholders, and the
// <pre> (which always holds the same text) sets the height, so the box grows with its content.

import { h, replace } from './dom.js';
import { field, selectInput } from './forms.js';
import { ROLES, contentText, templatePieces, variablesOf } from './deployment-rules.js';
import { orderedList } from './ordered-list.js';

/** Text with its {{variables}} marked, as nodes (for the editor's backdrop and read-only views). */
export function highlighted(text) {
  return templatePieces(text).map((piece) => (piece.variable
    ? h('mark', { class: 'template-var', title: `Variable ${piece.variable}` }, piece.text)
    : piece.text));
}

/** A textarea whose {{variables}} are highlighted as typed. Returns {el, control}. */
export function templateInput({ value = '', placeholder = '', rows = 3 } = {}) {
  const control = h('textarea', { class: 'input template-text', rows, placeholder, spellcheck: 'false' });
  control.value = value;
  const backdrop = h('pre', { class: 'template-backdrop', 'aria-hidden': 'true' });
  const draw = () => {
    // The trailing space keeps a last empty line as tall as the textarea's.
    replace(backdrop, highlighted(control.value), ' ');
  };
  control.addEventListener('input', draw);
  draw();
  return { el: h('div', { class: 'template-input' }, backdrop, control), control, redraw: draw };
}

function variableChips(names) {
  if (!names.length) {
    return h('p', { class: 'muted small' }, 'No variables yet. Write ', h('code', null, '{{name}}'),
      ' in a message to make a value the caller gives with each call.');
  }
  return h('ul', { class: 'variable-list', 'aria-label': 'Variables' },
    names.map((name) => h('li', null, h('code', { class: 'template-var' }, `{{${name}}}`))));
}

/** One message: role select and highlighted content. Keeps keys it does not edit (name, tool_call_id, ...). */
function messageItem(message = { role: 'user', content: '' }, onInput) {
  const isParts = Array.isArray(message.content);
  const role = field({
    name: 'role', label: 'Role', marked: false,
    control: selectInput(ROLES.map((r) => [r, r[0].toUpperCase() + r.slice(1)]), { value: message.role ?? 'user' }),
  });
  const input = templateInput({
    value: contentText(message.content),
    placeholder: isParts ? '[{"type": "text", "text": "…"}]' : 'You are a helpful assistant. Answer {{question}}.',
  });
  const content = field({
    name: 'content', label: isParts ? 'Content parts (JSON)' : 'Content', marked: false, control: input.control, wrapper: input.el,
    hint: isParts ? 'A list of text, image_url or file parts; placeholders work inside them too.' : '',
    className: 'message-content-field',
  });
  input.control.addEventListener('input', onInput);
  role.control.addEventListener('change', onInput);
  const handles = { role, content };

  const value = () => {
    const text = input.control.value;
    let parsed = text;
    if (isParts) {
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = null;
      }
    }
    return { ...message, role: role.control.value, content: parsed };
  };

  return {
    el: h('div', { class: 'message-editor' }, role.el, content.el),
    value,
    focus: () => input.control.focus(),
    read(problems) {
      const result = value();
      if (isParts && !Array.isArray(result.content)) problems.add(content, 'Enter the parts as a JSON list, e.g. [{"type": "text", "text": "Hi"}].');
      else if (!isParts && !result.content.trim()) problems.add(content, 'Write the message, or remove it.');
      return result;
    },
    target: (path) => handles[path[0]] ?? content,
  };
}

/**
 * messagesEditor({messages, onChange}) -> {el, read(problems), target(path), variables(), focus()}
 * onChange(variables) runs whenever a message changes, with the variables found.
 */
export function messagesEditor({ messages = [], onChange, label = 'Messages' } = {}) {
  const found = h('div', { class: 'variables-found', 'aria-live': 'polite' });
  let list = null;
  const current = () => (list ? list.items().map((item) => item.value()) : messages);
  const refresh = () => {
    const names = variablesOf(current());
    replace(found, h('p', { class: 'field-label' }, 'Variables found'), variableChips(names));
    onChange?.(names);
  };
  list = orderedList({
    values: messages.length ? messages : [{ role: 'system', content: '' }, { role: 'user', content: '' }],
    make: (message) => messageItem(message, refresh),
    itemLabel: (index) => `Message ${index + 1}`,
    addLabel: 'Add message',
    min: 1,
    onChange: () => refresh(),
    className: 'message-list',
  });
  refresh();
  return {
    el: h('div', { class: 'messages-editor', role: 'group', 'aria-label': label }, list.el, found),
    read: (problems) => list.read(problems),
    target: (path) => list.target(path),
    variables: () => variablesOf(current()),
    focus: () => list.items()[0]?.focus(),
  };
}
