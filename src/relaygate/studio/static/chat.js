// One streamed chat completion through the router, measured: text as it arrives, then tokens,
// latency (total and to the first token), relaygate's own overhead, and cost.

import { ApiError, send } from './api.js';
import { readJsonChunks } from './sse.js';

/** USD for a call, from the model's prices per 1M tokens; null when the model has no prices. */
export function callCost(model, usage) {
  if (!usage) return null;
  const input = typeof model.input_cost === 'number' ? model.input_cost : null;
  const output = typeof model.output_cost === 'number' ? model.output_cost : null;
  if (input === null && output === null) return null;
  return ((usage.prompt_tokens ?? 0) * (input ?? 0) + (usage.completion_tokens ?? 0) * (output ?? 0)) / 1e6;
}

function headerNumber(response, name) {
  const value = Number.parseFloat(response.headers.get(name) ?? '');
  return Number.isFinite(value) ? value : null;
}

function chunkError(chunk) {
  const message = chunk.error?.message ?? 'The model stopped with an error.';
  return new ApiError(message, { type: chunk.error?.type ?? null, code: chunk.error?.code ?? null });
}

/**
 * streamChat({model, messages, options, signal, onText}) -> {text, usage, finishReason, stats}
 * onText(fullTextSoFar) is called as the answer streams in.
 */
export async function streamChat({ model, messages, options = {}, signal, onText }) {
  const started = performance.now();
  const body = {
    model: model.router_id,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    ...options,
  };
  const response = await send('/v3/router/chat/completions', { method: 'POST', body, signal, accept: 'text/event-stream' });
  const stats = {
    requestId: response.headers.get('x-request-id'),
    overheadMs: headerNumber(response, 'x-relaygate-overhead-ms'),
    firstTokenMs: null,
    totalMs: null,
  };
  let text = '';
  let usage = null;
  let finishReason = null;

  const take = (chunk) => {
    if (chunk.error) throw chunkError(chunk);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      const piece = choice.delta?.content ?? choice.message?.content ?? '';
      if (piece) {
        stats.firstTokenMs ??= performance.now() - started;
        text += piece;
        onText?.(text);
      }
      finishReason = choice.finish_reason ?? finishReason;
    }
  };

  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    for await (const chunk of readJsonChunks(response)) take(chunk);
  } else {
    take(await response.json());
  }
  stats.totalMs = performance.now() - started;
  return { text, usage, finishReason, stats, cost: callCost(model, usage) };
}
