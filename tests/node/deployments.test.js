// relaygate's deployments through @orq-ai/node, unchanged: invoke, stream, list and getConfig.
// The SDK validates every answer with its own zod schemas, which refuse nulls where the
// contract says "omit", naive timestamps and providers outside its enum.
//
// Run by tests/node/test_node_sdks.py, which starts relaygate and a fake upstream and sets:
//   RELAYGATE_URL        e.g. http://127.0.0.1:8080
//   RELAYGATE_ADMIN_KEY  an admin key of a workspace with the chat model MODEL_ID
//   MODEL_ID             that model's router id (its upstream answers "Hello from fake upstream")

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { adminKey, orq, relaygate, required } from './environment.js';

const modelId = required('MODEL_ID');

const key = `node-${Date.now().toString(36)}`;
const inputs = { product: 'relaygate', question: 'What is a deployment?' };
const answerText = 'Hello from fake upstream';

test('a deployment is made through /v2/deployments (no SDK method)', async () => {
  const response = await fetch(`${relaygate}/v2/deployments`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      key,
      model: modelId,
      messages: [
        { role: 'system', content: 'You answer questions about {{product}}.' },
        { role: 'user', content: '{{question}}' },
      ],
      parameters: { temperature: 0.2, max_tokens: 64 },
      variants: [{ name: 'beta', context: { environments: 'beta' }, parameters: { temperature: 0.9 } }],
    }),
  });
  assert.equal(response.status, 200, await response.text());
});

test('deployments.invoke answers in the shape the SDK validates', async () => {
  const answer = await orq.deployments.invoke({
    key,
    inputs,
    context: { environments: 'beta' },
    messages: [{ role: 'user', content: 'And a version?' }],
    extraParams: { top_p: 0.5 },
    invokeOptions: { includeUsage: true },
  });
  assert.ok(answer);
  assert.equal(answer.object, 'chat');
  assert.equal(answer.model, modelId);
  assert.equal(answer.isFinal, true);
  assert.ok(answer.created instanceof Date);
  assert.match(answer.telemetry.traceId, /^[0-9a-f]{32}$/);
  assert.equal(answer.choices[0].message.type, 'content');
  assert.equal(answer.choices[0].message.content, answerText);
  assert.equal(answer.choices[0].finishReason, 'stop');
  assert.equal(answer.usage.totalTokens, answer.usage.promptTokens + answer.usage.completionTokens);
});

test('deployments.invoke with a mock response calls no model', async () => {
  const answer = await orq.deployments.invoke({ key, inputs, invokeOptions: { mockResponse: 'Mocked.' } });
  assert.equal(answer.choices[0].message.content, 'Mocked.');
});

test('deployments.stream yields invoke chunks and a final one', async () => {
  const events = await orq.deployments.stream({ key, inputs, invokeOptions: { includeUsage: true } });
  const chunks = [];
  for await (const event of events) {
    chunks.push(event.data);
  }
  const final = chunks.at(-1);
  assert.equal(final.isFinal, true);
  assert.equal(final.choices[0].finishReason, 'stop');
  assert.ok(final.usage.completionTokens > 0);
  const text = chunks.slice(0, -1).map((chunk) => chunk.choices[0].message.content).join('');
  assert.equal(text, answerText);
  assert.equal(new Set(chunks.map((chunk) => chunk.id)).size, 1);
});

test('deployments.list shows it', async () => {
  const page = await orq.deployments.list({ limit: 50 });
  const listed = page.data.find((item) => item.key === key);
  assert.ok(listed, JSON.stringify(page.data.map((item) => item.key)));
  assert.equal(listed.version, 'v1');
});

test('deployments.getConfig answers the rendered request', async () => {
  const config = await orq.deployments.getConfig({ key, inputs, context: { environments: 'beta' } });
  assert.equal(config.model, modelId);
  assert.equal(config.version, 'v1');
  assert.deepEqual(
    config.messages.map((message) => [message.role, message.content]),
    [
      ['system', 'You answer questions about relaygate.'],
      ['user', 'What is a deployment?'],
    ],
  );
  assert.equal(config.parameters.temperature, 0.9);
  assert.equal(config.parameters.maxTokens, 64);
});

test('a missing variable is a 400 the SDK reports', async () => {
  await assert.rejects(orq.deployments.invoke({ key, inputs: { product: 'x' } }), (error) => {
    assert.equal(error.statusCode, 400);
    assert.match(error.body, /'question'/);
    return true;
  });
});
