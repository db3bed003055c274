// A deployment's variants: each names the context it serves (field = value rules) and may change
// the default's model, messages and parameters. A call gets the variant all of whose rules match
// its context, the most specific first; with none matching, the default.

import { h } from './dom.js';
import { field, selectInput, textInput, toggle } from './forms.js';
import { modelOptions } from './deployment-rules.js';
import { orderedList } from './ordered-list.js';
import { pairRows } from './pair-rows.js';
import { parametersEditor } from './parameters-editor.js';
import { messagesEditor } from './template-editor.js';

function variantItem(variant, index, { models, defaultMessages, onChange }) {
  const original = variant ?? {};
  const name = field({
    name: 'name', label: 'Name', marked: false,
    control: textInput({ value: original.name ?? '', placeholder: `variant-${index + 1}` }),
    hint: 'Reported with each answer it serves. Empty: variant-<n>.',
  });
  const model = field({
    name: 'model', label: 'Model', marked: false,
    control: selectInput(modelOptions(models), { value: original.model ?? '', placeholder: 'Same as the default' }),
  });
  const context = pairRows({
    values: original.context, required: true, fieldLabel: 'Context field', valueLabel: 'Context value', addLabel: 'Add rule',
  });
  const ownMessages = toggle({
    name: 'own_messages', label: 'Its own messages',
    hint: 'Off: the default’s messages.', checked: Array.isArray(original.messages),
  });
  const messagesSlot = h('div', { class: 'variant-messages' });
  let messages = null;
  const showMessages = () => {
    const on = ownMessages.control.checked;
    if (on && !messages) {
      messages = messagesEditor({ messages: original.messages ?? defaultMessages(), onChange, label: 'Variant messages' });
      messagesSlot.append(messages.el);
    }
    messagesSlot.hidden = !on;
    onChange();
  };
  ownMessages.control.addEventListener('change', showMessages);
  const parameters = parametersEditor({ values: original.parameters ?? {}, inherit: true });
  showMessages();

  return {
    name,
    el: h('div', { class: 'variant-editor' },
      h('div', { class: 'grid-2' }, name.el, model.el),
      h('div', { class: 'field' }, h('p', { class: 'field-label' }, 'Serves calls whose context has'), context.el),
      ownMessages.el, messagesSlot,
      h('details', { class: 'variant-parameters', open: Object.keys(original.parameters ?? {}).length > 0 },
        h('summary', null, 'Parameters (over the default’s)'), parameters.el)),
    focus: () => name.control.focus(),
    /** The variant's own messages while "Its own messages" is on, else null. */
    messages: () => (ownMessages.control.checked && messages ? messages : null),
    read(problems) {
      const result = { ...original, name: name.control.value.trim(), context: context.read(problems) };
      if (!result.name) delete result.name;
      if (model.control.value) result.model = model.control.value;
      else delete result.model;
      const own = this.messages();
      if (own) result.messages = own.read(problems);
      else delete result.messages;
      const params = parameters.read(problems);
      if (Object.keys(params).length || 'parameters' in original) result.parameters = params;
      return result;
    },
    target(path) {
      const [head, ...rest] = path;
      if (head === 'name') return name;
      if (head === 'model') return model;
      if (head === 'context') return context.target(rest);
      if (head === 'messages') return this.messages()?.target(rest) ?? null;
      if (head === 'parameters') return parameters.target(rest);
      return null;
    },
  };
}

/** variantsEditor({variants, models, defaultMessages, onChange}) -> {el, read(problems), target(path), variables()} */
export function variantsEditor({ variants = [], models, defaultMessages, onChange }) {
  let count = 0;
  const list = orderedList({
    values: variants,
    make: (variant) => {
      count += 1;
      return variantItem(variant, count - 1, { models, defaultMessages, onChange });
    },
    itemLabel: (index) => `Variant ${index + 1}`,
    addLabel: 'Add variant',
    onChange,
    className: 'variant-list',
  });
  return {
    el: list.el,
    read(problems) {
      const values = list.read(problems);
      const seen = new Map();
      list.items().forEach((item, index) => {
        const label = values[index].name ?? `variant-${index + 1}`;
        if (seen.has(label)) problems.add(item.name, `Variant ${seen.get(label) + 1} has this name already: give each variant its own.`);
        else seen.set(label, index);
      });
      return values;
    },
    target: (path) => list.target(path),
    /** The messages editors of variants with their own messages (for the variables they add). */
    messageEditors: () => list.items().map((item) => item.messages()).filter(Boolean),
  };
}
