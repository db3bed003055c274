// "Try it": call the deployment as an application would, through POST /v2/deployments/stream,
// with a value for each variable, an optional context and user message. The answer streams in;
// then its tokens, cost, and the version, variant and model that served it.

import { ApiError, send } from './api.js';
import { callCost } from './chat.js';
import { h, replace } from './dom.js';
import { integer, milliseconds, money } from './format.js';
import { field, textArea } from './forms.js';
import { Problems } from './ordered-list.js';
import { pairRows } from './pair-rows.js';
import { readJsonChunks } from './sse.js';
import { badge, notice } from './ui.js';

/** The streamed call: onText(textSoFar) as chunks arrive; resolves to what served it and its usage. */
async function streamDeployment(body, { signal, onText }) {
  const started = performance.now();
  const response = await send('/v2/deployments/stream', { method: 'POST', body, signal, accept: 'text/event-stream' });
  const result = {
    text: '',
    usage: null,
    model: null,
    finishReason: null,
    version: response.headers.get('x-relaygate-deployment-version'),
    variant: response.headers.get('x-relaygate-variant'),
  };
  for await (const chunk of readJsonChunks(response)) {
    if (chunk.error) throw new ApiError(chunk.error.message ?? 'The call stopped with an error.', { code: chunk.error.code ?? null });
    result.model = chunk.model ?? result.model;
    result.usage = chunk.usage ?? result.usage;
    result.version = chunk.deployment?.version ?? result.version;
    result.variant = chunk.deployment?.variant ?? result.variant;
    for (const choice of chunk.choices ?? []) {
      const piece = choice.message?.content ?? '';
      if (piece) {
        result.text += piece;
        onText(result.text);
      }
      result.finishReason = choice.finish_reason ?? result.finishReason;
    }
  }
  result.ms = performance.now() - started;
  return result;
}

function summary(result, models) {
  const model = models.find((m) => m.router_id === result.model);
  const cost = model ? callCost(model, result.usage) : null;
  const usage = result.usage;
  const parts = [
    usage ? `${integer(usage.prompt_tokens)} in + ${integer(usage.completion_tokens)} out = ${integer(usage.total_tokens)} tokens` : 'tokens not reported',
    cost === null ? 'cost unknown (no prices set)' : `cost ${money(cost)}`,
    `${milliseconds(result.ms)} total`,
  ];
  return [
    h('div', { class: 'try-served' },
      result.version ? badge(`Version ${String(result.version).replace(/^v/, '')}`, 'info') : null,
      result.variant ? badge(`Variant ${result.variant}`, 'neutral') : null,
      result.model ? h('code', null, result.model) : null),
    h('p', { class: 'message-meta' }, parts.join(' · ')),
  ];
}

/** tryPanel({deployment, models, signal}) -> {el, stop()} */
export function tryPanel({ deployment, models, signal }) {
  const inputs = (deployment.variables ?? []).map((name) => field({
    name: `input-${name}`, label: name, marked: false, control: textArea({ rows: 2, placeholder: `Value of {{${name}}}` }),
  }));
  const context = pairRows({ fieldLabel: 'Context field', valueLabel: 'Context value', addLabel: 'Add context' });
  const message = field({
    name: 'user_message', label: 'User message', control: textArea({ rows: 2, placeholder: 'Appended after the deployment’s messages' }),
  });
  const run = h('button', { type: 'submit', class: 'button button-primary' }, 'Run');
  const stop = h('button', { type: 'button', class: 'button', disabled: true }, 'Stop');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const answer = h('div', { class: 'message-content try-answer', 'aria-live': 'off' }, h('span', { class: 'muted' }, 'The answer appears here as it streams in.'));
  const meta = h('div', { class: 'try-meta', 'aria-live': 'polite' });
  const form = h('form', { class: 'try-form', novalidate: true, 'aria-label': 'Try the deployment' },
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Inputs'),
      inputs.length ? h('div', { class: 'grid-2' }, inputs.map((item) => item.el))
        : h('p', { class: 'section-description' }, 'This deployment has no variables.')),
    h('fieldset', { class: 'form-section' }, h('legend', null, 'Context'),
      h('p', { class: 'section-description' }, 'Picks the variant, as the SDKs’ context does. Empty: the default.'), context.el),
    message.el,
    h('div', { class: 'form-actions' }, run, stop, status));
  const output = h('section', { class: 'card try-output', 'aria-label': 'Answer' }, h('h3', null, 'Answer'), answer, meta);

  let controller = null;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (controller) return;
    const problems = new Problems();
    const contextValue = context.read(problems);
    if (problems.count) {
      for (const { handle, message: text } of problems.list) handle.setError(text);
      return;
    }
    const body = {
      key: deployment.key,
      inputs: Object.fromEntries(inputs.map((item, index) => [deployment.variables[index], item.control.value])),
      invoke_options: { include_usage: true },
    };
    if (Object.keys(contextValue).length) body.context = contextValue;
    if (message.control.value.trim()) body.messages = [{ role: 'user', content: message.control.value.trim() }];

    controller = new AbortController();
    const abort = () => controller?.abort();
    signal.addEventListener('abort', abort);
    run.disabled = true;
    stop.disabled = false;
    status.textContent = 'Waiting for the first tokens…';
    replace(meta);
    replace(answer);
    answer.classList.add('message-streaming');
    try {
      const result = await streamDeployment(body, {
        signal: controller.signal,
        onText: (text) => { answer.textContent = text; status.textContent = 'Streaming…'; },
      });
      if (!result.text) answer.textContent = result.finishReason ? `(no text; finish reason: ${result.finishReason})` : '(empty answer)';
      replace(meta, summary(result, models));
      status.textContent = 'Answer complete.';
    } catch (error) {
      const stopped = error?.name === 'AbortError';
      status.textContent = stopped ? 'Stopped.' : 'The call failed.';
      if (!stopped) replace(meta, notice('error', error.message));
    } finally {
      answer.classList.remove('message-streaming');
      signal.removeEventListener('abort', abort);
      controller = null;
      run.disabled = false;
      stop.disabled = true;
    }
  });
  stop.addEventListener('click', () => controller?.abort());
  return { el: h('div', { class: 'try-panel' }, form, output), stop: () => controller?.abort() };
}
