// Playground: talk to an enabled chat model through the router and see each call's tokens,
// latency and cost.

import { api } from '../api.js';
import { streamChat } from '../chat.js';
import { h, replace } from '../dom.js';
import { integer, milliseconds, money } from '../format.js';
import { field, selectInput, textArea, textInput } from '../forms.js';
import { emptyState, notice, pageHeader } from '../ui.js';

function statsLine(result) {
  const usage = result.usage;
  const parts = [];
  if (usage) {
    parts.push(`${integer(usage.prompt_tokens)} in + ${integer(usage.completion_tokens)} out = ${integer(usage.total_tokens)} tokens`);
  } else {
    parts.push('tokens not reported');
  }
  parts.push(`${milliseconds(result.stats.totalMs)} total`);
  if (result.stats.firstTokenMs !== null) parts.push(`first token ${milliseconds(result.stats.firstTokenMs)}`);
  if (result.stats.overheadMs !== null) parts.push(`relaygate overhead ${milliseconds(result.stats.overheadMs)}`);
  parts.push(result.cost === null ? 'cost unknown (no prices set)' : `cost ${money(result.cost)}`);
  return parts.join(' · ');
}

function messageBubble(role, text) {
  const content = h('div', { class: 'message-content' }, text);
  const meta = h('p', { class: 'message-meta' });
  const el = h('li', { class: `message message-${role}` },
    h('p', { class: 'message-role' }, role === 'user' ? 'You' : 'Assistant'), content, meta);
  return { el, content, meta };
}

function numberOption(name, label, hint, attrs) {
  const control = textInput({ type: 'number', placeholder: 'Default' });
  for (const [key, value] of Object.entries(attrs)) control.setAttribute(key, value);
  return field({ name, label, control, hint, marked: false });
}

export async function render({ main, query, signal }) {
  main.append(pageHeader('Playground', { subtitle: 'Send messages to a chat model through the router, streamed, with the cost of every call.' }));
  let models;
  try {
    models = ((await api('/v2/models', { signal })).data ?? [])
      .filter((model) => model.model_type === 'chat' && model.enabled !== false);
  } catch (error) {
    if (error.name === 'AbortError') return undefined;
    main.append(notice('error', `The models could not be loaded. ${error.message}`));
    return undefined;
  }
  if (models.length === 0) {
    main.append(emptyState('No chat model to talk to',
      'The playground needs an enabled model of type Chat Completion.',
      h('a', { class: 'button button-primary', href: '/studio/models/new/openai-like' }, 'Add Model → OpenAI-like')));
    return undefined;
  }
  models.sort((a, b) => String(a.display_name).localeCompare(String(b.display_name)));

  const wanted = query.get('model');
  const modelField = field({
    name: 'model', label: 'Model', required: true,
    control: selectInput(models.map((m) => [m.router_id, `${m.display_name} (${m.router_id})`]),
      { value: models.some((m) => m.router_id === wanted) ? wanted : models[0].router_id }),
    hint: 'Enabled chat models of this workspace.',
  });
  const systemField = field({ name: 'system', label: 'System message', control: textArea({ rows: 3, placeholder: 'You are a helpful assistant.' }), hint: 'Sent first in every call.' });
  const temperatureField = numberOption('temperature', 'Temperature', '0 to 2; empty: the model’s.', { min: '0', max: '2', step: '0.1' });
  const maxTokensField = numberOption('max_tokens', 'Max tokens', 'Per answer; empty: the model’s.', { min: '1', step: '1' });
  const totals = { calls: 0, tokens: 0, cost: 0, costKnown: true };
  const totalsEl = h('p', { class: 'muted totals-line', 'aria-live': 'polite' }, 'No calls yet.');
  const clearButton = h('button', { type: 'button', class: 'button' }, 'Clear conversation');

  const messagesList = h('ol', { class: 'messages', 'aria-label': 'Conversation' });
  const emptyNote = h('li', { class: 'messages-empty' }, 'Send a message to start. Answers stream in as the model writes them.');
  messagesList.append(emptyNote);
  const input = textArea({ rows: 3, placeholder: 'Write a message. Enter sends, Shift+Enter adds a line.' });
  const inputField = field({ name: 'message', label: 'Message', control: input, marked: false });
  const sendButton = h('button', { type: 'submit', class: 'button button-primary' }, 'Send');
  const stopButton = h('button', { type: 'button', class: 'button', disabled: true }, 'Stop');
  const status = h('p', { class: 'form-status', role: 'status', 'aria-live': 'polite' });
  const composer = h('form', { class: 'composer', novalidate: true }, inputField.el,
    h('div', { class: 'composer-actions' }, status, stopButton, sendButton));

  main.append(h('div', { class: 'playground' },
    h('aside', { class: 'card playground-settings', 'aria-label': 'Settings' },
      h('h2', null, 'Settings'), modelField.el, systemField.el,
      h('div', { class: 'grid-2 grid-tight' }, temperatureField.el, maxTokensField.el),
      totalsEl, clearButton),
    h('section', { class: 'card chat', 'aria-label': 'Chat' }, messagesList, composer)));

  const conversation = [];
  let controller = null;

  const options = () => {
    const result = {};
    const temperature = temperatureField.control.value.trim();
    const maxTokens = maxTokensField.control.value.trim();
    if (temperature !== '') result.temperature = Number(temperature);
    if (maxTokens !== '') result.max_tokens = Number(maxTokens);
    return result;
  };
  const checkOptions = () => {
    const t = temperatureField.control.value.trim();
    const m = maxTokensField.control.value.trim();
    temperatureField.setError(t !== '' && !(Number(t) >= 0 && Number(t) <= 2) ? 'Enter a temperature from 0 to 2.' : '');
    maxTokensField.setError(m !== '' && !(Number.isInteger(Number(m)) && Number(m) >= 1) ? 'Enter a whole number of at least 1.' : '');
    return !temperatureField.control.hasAttribute('aria-invalid') && !maxTokensField.control.hasAttribute('aria-invalid');
  };

  const setBusy = (busy) => {
    sendButton.disabled = busy;
    stopButton.disabled = !busy;
    clearButton.disabled = busy;
    modelField.control.disabled = busy;
  };

  async function sendMessage() {
    const text = input.value.trim();
    if (!text || controller) return;
    if (!checkOptions()) return;
    const model = models.find((m) => m.router_id === modelField.control.value);
    emptyNote.remove();
    conversation.push({ role: 'user', content: text });
    const question = messageBubble('user', text);
    messagesList.append(question.el);
    input.value = '';
    const answer = messageBubble('assistant', '');
    answer.el.classList.add('message-streaming');
    answer.el.setAttribute('aria-busy', 'true');
    messagesList.append(answer.el);
    answer.el.scrollIntoView({ block: 'end' });

    const system = systemField.control.value.trim();
    const messages = system ? [{ role: 'system', content: system }, ...conversation] : [...conversation];
    controller = new AbortController();
    const abortOnLeave = () => controller?.abort();
    signal.addEventListener('abort', abortOnLeave);
    setBusy(true);
    status.textContent = `Waiting for ${model.display_name}…`;
    try {
      const result = await streamChat({
        model, messages, options: options(), signal: controller.signal,
        onText: (soFar) => {
          answer.content.textContent = soFar;
          status.textContent = 'Streaming…';
          messagesList.scrollTop = messagesList.scrollHeight;
        },
      });
      answer.content.textContent = result.text || (result.finishReason ? `(no text; finish reason: ${result.finishReason})` : '(empty answer)');
      answer.meta.textContent = statsLine(result);
      conversation.push({ role: 'assistant', content: result.text });
      totals.calls += 1;
      totals.tokens += result.usage?.total_tokens ?? 0;
      if (result.cost === null) totals.costKnown = false;
      else totals.cost += result.cost;
      totalsEl.textContent = `${totals.calls} call${totals.calls === 1 ? '' : 's'} · ${integer(totals.tokens)} tokens · ${totals.costKnown ? money(totals.cost) : `${money(totals.cost)} or more`} this session`;
      status.textContent = 'Answer complete.';
    } catch (error) {
      const stopped = error?.name === 'AbortError';
      answer.el.classList.add(stopped ? 'message-stopped' : 'message-error');
      if (!answer.content.textContent) answer.content.textContent = stopped ? '(stopped)' : '';
      answer.meta.textContent = stopped ? 'Stopped before the answer was complete.' : `The call failed: ${error.message}`;
      status.textContent = stopped ? 'Stopped.' : `The call failed: ${error.message}`;
      conversation.pop();
      question.el.classList.add('message-unanswered');
      question.meta.textContent = 'Not part of the conversation: it got no answer.';
      if (!stopped && !input.value) input.value = text;
    } finally {
      answer.el.classList.remove('message-streaming');
      answer.el.removeAttribute('aria-busy');
      signal.removeEventListener('abort', abortOnLeave);
      controller = null;
      setBusy(false);
      if (!signal.aborted) input.focus();
    }
  }

  composer.addEventListener('submit', (event) => {
    event.preventDefault();
    sendMessage();
  });
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendMessage();
    }
  });
  stopButton.addEventListener('click', () => controller?.abort());
  clearButton.addEventListener('click', () => {
    conversation.length = 0;
    replace(messagesList, emptyNote);
    status.textContent = 'Conversation cleared.';
    input.focus();
  });
  return () => controller?.abort();
}
