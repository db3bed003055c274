// The deployment form, shared by create and edit: general fields, the prompt template, the model
// and its parameters, variants, and routing. It reads itself into a version's content, shows the
// problems it finds on their fields, and puts a server error on the field its `param` names.

import { h } from './dom.js';
import { field, selectInput, textArea, textInput } from './forms.js';
import { KEY_RULES, contentVariables, keyError, modelOptions, paramPath, routerModel } from './deployment-rules.js';
import { Problems } from './ordered-list.js';
import { parametersEditor } from './parameters-editor.js';
import { routingEditor } from './routing-editor.js';
import { messagesEditor } from './template-editor.js';
import { variantsEditor } from './variants-editor.js';

function section(title, description, ...children) {
  return h('fieldset', { class: 'form-section' },
    h('legend', null, title),
    description ? h('p', { class: 'section-description' }, description) : null,
    children);
}

/**
 * deploymentForm({deployment, models, mode, onVariables}) -> {el, read(), show(problems), setServerError(error), lock(bool)}
 * mode 'create' or 'edit' (the key is fixed once created). onVariables(names) runs as the prompt changes.
 */
export function deploymentForm({ deployment = {}, models, mode = 'create', onVariables }) {
  const fields = {
    key: field({
      name: 'key', label: 'Key', required: true,
      control: textInput({ value: deployment.key ?? '', placeholder: 'customer-support' }),
      hint: KEY_RULES,
    }),
    display_name: field({
      name: 'display_name', label: 'Display name',
      control: textInput({ value: deployment.display_name ?? '', placeholder: 'Customer support' }),
      hint: 'Shown in the Studio. Empty: the key.',
    }),
    description: field({
      name: 'description', label: 'Description', className: 'field-wide',
      control: textArea({ value: deployment.description ?? '', rows: 2, placeholder: 'What this deployment answers, and for whom' }),
    }),
    model: field({
      name: 'model', label: 'Model', required: true,
      control: selectInput(modelOptions(models), { value: deployment.model ?? '', placeholder: 'Choose a chat model' }),
      hint: 'A chat model of this workspace. Variants may use another.',
    }),
  };
  const keyPreview = h('p', { class: 'router-preview', 'aria-live': 'polite' });
  const key = () => (mode === 'edit' ? deployment.key : fields.key.control.value.trim());
  const showKey = () => {
    const text = key();
    keyPreview.replaceChildren('Called as ', h('code', null, routerModel(text || '<key>')), ' through the router, or by its key with the SDKs.');
    if (mode === 'create') fields.key.setError(text ? keyError(text) : '');
  };
  fields.key.control.addEventListener('input', showKey);
  if (mode === 'edit') {
    fields.key.control.readOnly = true;
    fields.key.setHint('Fixed: applications call the deployment by it.');
  }

  let variants = null;
  const variablesChanged = () => {
    if (!variants) return;
    const variantMessages = variants.messageEditors().map((editor) => ({ messages: editor.read(new Problems()) }));
    onVariables?.(contentVariables({ messages: messages.read(new Problems()), variants: variantMessages }));
  };
  const messages = messagesEditor({ messages: deployment.messages ?? [], onChange: variablesChanged, label: 'Prompt messages' });
  const parameters = parametersEditor({ values: deployment.parameters ?? {} });
  variants = variantsEditor({
    variants: deployment.variants ?? [], models, onChange: variablesChanged,
    defaultMessages: () => messages.read(new Problems()),
  });
  const routing = routingEditor({ values: deployment, models });

  // A fieldset, so disabling it locks every control and unlocking restores each one's own state.
  const el = h('fieldset', { class: 'deployment-form' },
    section('General', 'How the deployment is named. Applications call it by its key.',
      h('div', { class: 'grid-2' }, fields.key.el, fields.display_name.el), keyPreview, fields.description.el),
    section('Prompt', 'The messages sent first in every call. Write {{name}} where a value from the call’s inputs goes.',
      messages.el),
    section('Model and parameters', 'The model that answers, and the parameters it gets unless a call overrides them.',
      h('div', { class: 'grid-2' }, fields.model.el), parameters.el),
    section('Variants', 'Other configurations for calls whose context matches their rules, e.g. environments = staging. The most specific match wins; no match: the configuration above.',
      variants.el),
    section('Routing', 'What happens when the model fails or is slow, and whether identical calls are answered from the cache.',
      routing.el));
  showKey();
  variablesChanged();

  let shown = [];
  const show = (problems) => {
    for (const { handle, message } of problems.list) {
      handle.setError(message);
      shown.push(handle);
    }
    const first = problems.list[0]?.handle;
    if (first?.focus) first.focus();
    else first?.control?.focus();
  };

  function target(path) {
    const [head, ...rest] = path;
    if (fields[head]) return fields[head];
    if (head === 'messages') return messages.target(rest);
    if (head === 'parameters') return parameters.target(rest);
    if (head === 'variants') return variants.target(rest);
    return routing.target(path);
  }

  return {
    el,
    show,
    /** {content, problems}: the version's content (and key) as the form holds it, and what is wrong with it. */
    read() {
      for (const handle of shown) handle.setError('');
      shown = [];
      const problems = new Problems();
      const keyText = key();
      if (mode === 'create' && keyError(keyText)) problems.add(fields.key, keyError(keyText));
      if (!fields.model.control.value) problems.add(fields.model, 'Choose the model that answers.');
      const content = {
        display_name: fields.display_name.control.value.trim() || keyText,
        description: fields.description.control.value.trim(),
        model: fields.model.control.value,
        messages: messages.read(problems),
        parameters: parameters.read(problems),
        variants: variants.read(problems),
        ...routing.read(problems),
      };
      return { key: keyText, content, problems };
    },
    /** Put a server error on the field its param names; returns true if a field took it. */
    setServerError(error) {
      const handle = error?.param ? target(paramPath(error.param)) : null;
      if (!handle) return false;
      show({ list: [{ handle, message: error.message }] });
      return true;
    },
    lock(locked) {
      el.disabled = locked;
    },
  };
}
