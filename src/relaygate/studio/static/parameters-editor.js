// A deployment's model parameters: the common ones as fields (temperature, max tokens, top p,
// response format) and every other OpenAI chat parameter as one JSON object, passed on as is.

import { h } from './dom.js';
import { field, selectInput, textArea, textInput } from './forms.js';

const NUMBERS = {
  temperature: { label: 'Temperature', min: 0, max: 2, step: '0.1', integer: false },
  max_tokens: { label: 'Max tokens', min: 1, max: 10_000_000, step: '1', integer: true },
  top_p: { label: 'Top p', min: 0, max: 1, step: '0.05', integer: false },
};
const FORMATS = [['text', 'Text'], ['json_object', 'JSON object'], ['json_schema', 'JSON schema']];

function numberError(spec, text) {
  const n = Number(text);
  if (!Number.isFinite(n) || (spec.integer && !Number.isInteger(n)) || n < spec.min || n > spec.max) {
    return spec.integer ? `Enter a whole number of at least ${spec.min}.` : `Enter a number from ${spec.min} to ${spec.max}.`;
  }
  return '';
}

function json(value) {
  return value && Object.keys(value).length ? JSON.stringify(value, null, 2) : '';
}

/**
 * parametersEditor({values, inherit}) -> {el, read(problems), target(path)}
 * inherit: the parameters of a variant, laid over the default's, so an empty field means "the default's".
 */
export function parametersEditor({ values = {}, inherit = false } = {}) {
  const empty = inherit ? 'The default’s' : 'The model’s';
  const fields = {};
  for (const [name, spec] of Object.entries(NUMBERS)) {
    const control = textInput({ type: 'number', value: values[name] ?? '', placeholder: empty, inputmode: spec.integer ? 'numeric' : 'decimal' });
    Object.assign(control, { min: String(spec.min), max: String(spec.max), step: spec.step });
    fields[name] = field({ name, label: spec.label, control, marked: false });
  }
  // A response format the select does not know stays in the JSON box, so nothing is lost.
  const format = FORMATS.some(([type]) => type === values.response_format?.type) ? values.response_format.type : '';
  fields.response_format = field({
    name: 'response_format', label: 'Response format', marked: false,
    control: selectInput(FORMATS, { value: format, placeholder: empty }),
  });
  fields.json_schema = field({
    name: 'json_schema', label: 'JSON schema', className: 'field-wide',
    control: textArea({ rows: 4, value: json(values.response_format?.json_schema), placeholder: '{"name": "answer", "schema": {"type": "object", …}, "strict": true}' }),
    hint: 'The response_format.json_schema object: a name, the schema and, if you want, strict.',
  });
  const own = (name) => NUMBERS[name] || (name === 'response_format' && format);
  const rest = Object.fromEntries(Object.entries(values).filter(([name]) => !own(name)));
  fields.other = field({
    name: 'other', label: 'Other parameters (JSON)', className: 'field-wide',
    control: textArea({ rows: 3, value: json(rest), placeholder: '{"presence_penalty": 0.2, "stop": ["\\n\\n"], "seed": 7}' }),
    hint: 'Any other chat parameter (tools, tool_choice, stop, seed, penalties, …), sent to the model as is.',
  });
  fields.other.control.classList.add('input-mono');
  fields.json_schema.control.classList.add('input-mono');
  const showSchema = () => { fields.json_schema.el.hidden = fields.response_format.control.value !== 'json_schema'; };
  fields.response_format.control.addEventListener('change', showSchema);
  showSchema();

  function readJson(item, problems, what) {
    const text = item.control.value.trim();
    if (!text) return {};
    try {
      const value = JSON.parse(text);
      if (value && typeof value === 'object' && !Array.isArray(value)) return value;
    } catch {
      // reported below
    }
    problems.add(item, `Enter ${what} as a JSON object, e.g. {"seed": 7}.`);
    return {};
  }

  return {
    el: h('div', { class: 'parameters-editor' },
      h('div', { class: 'grid-4' }, fields.temperature.el, fields.max_tokens.el, fields.top_p.el, fields.response_format.el),
      fields.json_schema.el,
      fields.other.el),
    read(problems) {
      const result = {};
      for (const [name, spec] of Object.entries(NUMBERS)) {
        const item = fields[name];
        const text = item.control.validity.badInput ? 'not a number' : item.control.value.trim();
        item.setError('');
        if (text === '') continue;
        const error = numberError(spec, text);
        if (error) problems.add(item, error);
        else result[name] = Number(text);
      }
      for (const name of ['response_format', 'json_schema', 'other']) fields[name].setError('');
      const type = fields.response_format.control.value;
      if (type === 'json_schema') {
        const schema = readJson(fields.json_schema, problems, 'the schema');
        if (!Object.keys(schema).length && !fields.json_schema.control.value.trim()) problems.add(fields.json_schema, 'Enter the JSON schema the answers must follow.');
        result.response_format = { type, json_schema: schema };
      } else if (type) {
        result.response_format = { type };
      }
      const other = readJson(fields.other, problems, 'the other parameters');
      const doubled = Object.keys(other).filter((name) => name in result);
      if (doubled.length) problems.add(fields.other, `Set ${doubled.join(', ')} in its own field above, not here.`);
      return { ...other, ...result };
    },
    /** ['temperature'] -> its field; ['response_format', 'json_schema', ...] -> the schema; others -> the JSON box. */
    target(path) {
      if (path[0] === 'response_format') return path[1] === 'json_schema' ? fields.json_schema : fields.response_format;
      return fields[path[0]] && NUMBERS[path[0]] ? fields[path[0]] : fields.other;
    },
  };
}
