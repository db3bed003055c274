// Evaluator kinds as the form knows them (pure): their names, which fields each shows, the create
// body made from the form's values, the values read back from a stored evaluator, and which form
// field an API error's `param` names.

export const KINDS = [
  ['exact_match', 'Exact match'],
  ['contains', 'Contains keywords'],
  ['regex', 'Regular expression'],
  ['json_valid', 'Valid JSON'],
  ['json_schema', 'JSON schema'],
  ['length_between', 'Length between'],
  ['embedding_similarity', 'Embedding similarity'],
  ['llm_eval', 'LLM as judge'],
  ['http_eval', 'HTTP scorer'],
];
export const KIND_WORDS = Object.fromEntries(KINDS);

export const KIND_HELP = {
  exact_match: 'Passes when the answer equals the expected output.',
  contains: 'Passes when the answer contains any (or all) of the keywords.',
  regex: 'Passes when the pattern matches somewhere in the answer (a linear-time engine: no backreferences).',
  json_valid: 'Passes when the answer is valid JSON.',
  json_schema: 'Passes when the answer is JSON that conforms to the schema.',
  length_between: 'Passes when the answer’s length in characters is within the bounds.',
  embedding_similarity: 'Cosine similarity of the answer and the expected output, through an embedding model of this workspace.',
  llm_eval: 'A chat model or deployment of this workspace reads the answer and gives a score with a reason.',
  http_eval: 'relaygate posts {input, output, expected} to your URL and reads back {score, passed?, reason?}.',
};

/** The form fields each kind shows (besides key and description). */
export const KIND_FIELDS = {
  exact_match: ['ignore_case', 'normalize_whitespace'],
  contains: ['keywords', 'match', 'ignore_case'],
  regex: ['pattern'],
  json_valid: [],
  json_schema: ['schema'],
  length_between: ['min_length', 'max_length'],
  embedding_similarity: ['embedding_model', 'similarity_threshold'],
  llm_eval: ['judge_model', 'prompt', 'judge_output', 'judge_min', 'judge_max', 'judge_threshold'],
  http_eval: ['url', 'headers', 'timeout_ms', 'http_output'],
};

export const NEEDS_EXPECTED = new Set(['exact_match', 'embedding_similarity']);

const isWhole = (text) => /^\d+$/.test(text);
const isNumber = (text) => text !== '' && Number.isFinite(Number(text));

/** "Name: value" lines -> {name: value}; throws with the line number when one cannot be read. */
export function parseHeaders(text) {
  const headers = {};
  text.split('\n').forEach((line, index) => {
    if (!line.trim()) return;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`Line ${index + 1} is not “Name: value”.`);
    headers[line.slice(0, colon).trim()] = line.slice(colon + 1).trim();
  });
  return headers;
}

/** Form values ({name: string|boolean}) -> {errors: {field: message}, body} for POST /v2/evaluators. */
export function evaluatorBody(kind, values) {
  const errors = {};
  const text = (name) => String(values[name] ?? '').trim();
  const body = {};
  if (text('description')) body.description = text('description');
  const params = (type, extra = {}) => ({ type: 'function_eval', function_params: { type, ...extra } });
  if (kind === 'exact_match') {
    Object.assign(body, params('exact_match', { ignore_case: Boolean(values.ignore_case), normalize_whitespace: Boolean(values.normalize_whitespace) }));
  } else if (kind === 'contains') {
    const keywords = String(values.keywords ?? '').split('\n').map((word) => word.trim()).filter(Boolean);
    if (!keywords.length) errors.keywords = 'Enter at least one keyword, one per line.';
    Object.assign(body, params(values.match === 'all' ? 'contains_all' : 'contains_any', { keywords, ignore_case: Boolean(values.ignore_case) }));
  } else if (kind === 'regex') {
    if (!text('pattern')) errors.pattern = 'Enter the pattern to look for.';
    Object.assign(body, params('regex', { pattern: String(values.pattern ?? '') }));
  } else if (kind === 'json_valid') {
    Object.assign(body, params('is_valid_json'));
  } else if (kind === 'json_schema') {
    try {
      JSON.parse(text('schema'));
    } catch (error) {
      errors.schema = text('schema') ? `The schema is not JSON: ${error.message}` : 'Enter a JSON schema.';
    }
    Object.assign(body, { type: 'json_schema', schema: text('schema') });
  } else if (kind === 'length_between') {
    if (!isWhole(text('min_length'))) errors.min_length = 'Enter a whole number of characters, 0 or more.';
    if (!isWhole(text('max_length'))) errors.max_length = 'Enter a whole number of characters.';
    else if (!errors.min_length && Number(text('max_length')) < Number(text('min_length'))) errors.max_length = 'The maximum must be at least the minimum.';
    Object.assign(body, params('length_between', { min: Number(text('min_length')), max: Number(text('max_length')) }));
  } else if (kind === 'embedding_similarity') {
    if (!text('embedding_model')) errors.embedding_model = 'Choose an embedding model of this workspace.';
    const extra = { model: text('embedding_model') };
    if (text('similarity_threshold')) {
      const value = Number(text('similarity_threshold'));
      if (!isNumber(text('similarity_threshold')) || value < -1 || value > 1) errors.similarity_threshold = 'Enter a number from -1 to 1, or leave it empty.';
      else extra.threshold = value;
    }
    Object.assign(body, params('cosine_similarity', extra));
  } else if (kind === 'llm_eval') {
    if (!text('judge_model')) errors.judge_model = 'Choose the chat model or deployment that judges.';
    if (!text('prompt')) errors.prompt = 'Write the judge’s instructions.';
    Object.assign(body, { type: 'llm_eval', mode: 'single', model: text('judge_model'), prompt: String(values.prompt ?? ''), output_type: values.judge_output === 'number' ? 'number' : 'boolean' });
    if (body.output_type === 'number') {
      for (const [name, key] of [['judge_min', 'min'], ['judge_max', 'max'], ['judge_threshold', 'threshold']]) {
        if (!text(name)) continue;
        if (!isNumber(text(name))) errors[name] = 'Enter a number, or leave it empty.';
        else body[key] = Number(text(name));
      }
      if (body.min !== undefined && body.max !== undefined && body.max <= body.min) errors.judge_max = 'The maximum must be above the minimum.';
    }
  } else if (kind === 'http_eval') {
    if (!/^https?:\/\/\S+$/i.test(text('url'))) errors.url = 'Enter the scorer’s address, starting with http:// or https://.';
    let headers = {};
    try {
      headers = parseHeaders(String(values.headers ?? ''));
    } catch (error) {
      errors.headers = error.message;
    }
    Object.assign(body, { type: 'http_eval', url: text('url'), headers, output_type: values.http_output === 'number' ? 'number' : 'boolean' });
    if (text('timeout_ms')) {
      if (!isWhole(text('timeout_ms')) || Number(text('timeout_ms')) < 100) errors.timeout_ms = 'Enter a whole number of milliseconds, 100 or more.';
      else body.timeout_ms = Number(text('timeout_ms'));
    }
  }
  return { errors, body };
}

/** A stored evaluator (GET /v2/evaluators/{id}) -> the form's values. */
export function formValues(evaluator) {
  const params = evaluator.function_params ?? {};
  const values = { key: evaluator.key, description: evaluator.description ?? '', kind: evaluator.kind };
  switch (evaluator.kind) {
    case 'exact_match':
      return { ...values, ignore_case: Boolean(params.ignore_case), normalize_whitespace: Boolean(params.normalize_whitespace) };
    case 'contains':
      return { ...values, keywords: (params.keywords ?? []).join('\n'), match: params.type === 'contains_all' ? 'all' : 'any', ignore_case: Boolean(params.ignore_case) };
    case 'regex':
      return { ...values, pattern: params.pattern ?? '' };
    case 'json_schema': {
      let schema = evaluator.schema ?? '';
      try {
        schema = JSON.stringify(JSON.parse(schema), null, 2);
      } catch {
        // shown as stored
      }
      return { ...values, schema };
    }
    case 'length_between':
      return { ...values, min_length: String(params.min ?? ''), max_length: String(params.max ?? '') };
    case 'embedding_similarity':
      return { ...values, embedding_model: params.model ?? '', similarity_threshold: params.threshold ?? '' };
    case 'llm_eval':
      return {
        ...values, judge_model: typeof evaluator.model === 'object' ? evaluator.model?.id ?? '' : evaluator.model ?? '', prompt: evaluator.prompt ?? '',
        judge_output: evaluator.output_type, judge_min: evaluator.min ?? '', judge_max: evaluator.max ?? '', judge_threshold: evaluator.threshold ?? '',
      };
    case 'http_eval':
      return {
        ...values, url: evaluator.url ?? '', timeout_ms: String(evaluator.timeout_ms ?? ''), http_output: evaluator.output_type,
        headers: Object.entries(evaluator.headers ?? {}).map(([name, value]) => `${name}: ${value}`).join('\n'),
      };
    default:
      return values;
  }
}

const PARAMS = {
  key: 'key', description: 'description', schema: 'schema', url: 'url', timeout_ms: 'timeout_ms', headers: 'headers', prompt: 'prompt',
  'function_params.keywords': 'keywords', 'function_params.pattern': 'pattern', 'function_params.min': 'min_length',
  'function_params.max': 'max_length', 'function_params.model': 'embedding_model', 'function_params.threshold': 'similarity_threshold',
  'function_params.ignore_case': 'ignore_case', model: 'judge_model', min: 'judge_min', max: 'judge_max', threshold: 'judge_threshold',
  'sample.input': 'sample_input', 'sample.output': 'sample_output', 'sample.expected': 'sample_expected',
};

/** The form field an API error's `param` names, or null. */
export function fieldOfParam(param) {
  if (!param) return null;
  const text = String(param).replace(/\[\d+\]$/, '');
  if (PARAMS[text]) return PARAMS[text];
  if (text.startsWith('headers')) return 'headers';
  if (text.startsWith('function_params.keywords')) return 'keywords';
  return null;
}
