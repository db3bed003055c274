// relaygate through the official Node SDKs, unchanged: @orq-ai/node for the /v2 model
// registry, openai for the router. Every call must pass the SDK's own response validation.
//
// Run by tests/node/test_node_sdks.py, which starts relaygate and a fake upstream and sets:
//   RELAYGATE_URL        e.g. http://127.0.0.1:8080
//   RELAYGATE_ADMIN_KEY  an admin key of a workspace with no models yet
//   UPSTREAM_URL         an OpenAI-compatible base URL serving the model "gpt-test"
//   UPSTREAM_API_KEY     its key

import assert from 'node:assert/strict';
import { test } from 'node:test';

import operations from '@orq-ai/node/models/operations/index.js';
import OpenAI from 'openai';

import { adminKey, orq, relaygate, required } from './environment.js';

// The SDK's schema of the model object (create and update answer the same one).
const modelSchema = operations.ModelCreateOpenAILikeResponseBody$inboundSchema;
// GET /v2/models (no SDK method): {object: "list", data: [model objects]}.
const modelListSchema = {
  parse(body) {
    assert.equal(body.object, 'list');
    return body.data.map((item) => modelSchema.parse(item));
  },
};

const upstreamUrl = required('UPSTREAM_URL');
const upstreamKey = required('UPSTREAM_API_KEY');

const openai = new OpenAI({ baseURL: `${relaygate}/v3/router`, apiKey: adminKey, maxRetries: 0 });
const question = [{ role: 'user', content: 'Say hello.' }];

/** A /v2 call the SDK has no method for, its answer checked against the SDK's schema. */
async function v2(path, schema) {
  const response = await fetch(`${relaygate}${path}`, { headers: { authorization: `Bearer ${adminKey}` } });
  const body = await response.json();
  assert.equal(response.status, 200, JSON.stringify(body));
  return schema.parse(body);
}

let model; // the model registered by the first test, used by the others

test('@orq-ai/node registers an OpenAI-like model (models.createOpenaiLike)', async () => {
  model = await orq.models.createOpenaiLike({
    apiKey: upstreamKey,
    baseUrl: upstreamUrl,
    displayName: 'Node SDK model',
    modelId: 'gpt-test',
    modelType: 'chat',
    region: 'us',
  });
  assert.equal(model.modelId, 'gpt-test');
  assert.equal(model.displayName, 'Node SDK model');
  assert.equal(model.configuration.baseUrl, upstreamUrl);
  assert.equal(model.metadata.isPrivate, true);
  assert.equal(model.description, null); // nullable in the SDK: sent as null
  assert.ok(model.refId.endsWith('/gpt-test'), model.refId);
});

test('@orq-ai/node updates it (models.updateOpenaiLike)', async () => {
  const updated = await orq.models.updateOpenaiLike({
    id: model.id,
    requestBody: { displayName: 'Renamed by Node', modelType: 'chat', region: 'eu', outputCost: 2 },
  });
  assert.equal(updated.displayName, 'Renamed by Node');
  assert.equal(updated.outputCost, 2);
  assert.equal(updated.refId, model.refId);
});

test('GET /v2/models and /v2/models/{id} pass the SDK model schema', async () => {
  const listed = await v2('/v2/models', modelListSchema);
  assert.deepEqual(listed.map((item) => item.id), [model.id]);
  const got = await v2(`/v2/models/${model.id}`, modelSchema);
  assert.equal(got.refId, model.refId);
  assert.equal(got.displayName, 'Renamed by Node');
});

test('@orq-ai/node checks an upstream key (models.validate): the right one passes', async () => {
  const result = await orq.models.validate({ provider: 'openai', apiKey: upstreamKey, baseUrl: upstreamUrl });
  assert.equal(result, undefined); // an empty 200, as the SDK's M.nil(200) expects
});

test('@orq-ai/node models.validate rejects a wrong key with an OpenAI-shaped 400', async () => {
  const wrong = 'sk-wrong-key-for-node-validate';
  await assert.rejects(
    orq.models.validate({ provider: 'openai', apiKey: wrong, baseUrl: upstreamUrl }),
    (error) => {
      assert.equal(error.statusCode, 400, error.message);
      const body = JSON.parse(error.body);
      assert.equal(body.error.param, 'api_key');
      assert.equal(body.error.code, 'authentication_failed');
      assert.ok(!error.body.includes(wrong), error.body);
      return true;
    },
  );
  const listed = await v2('/v2/models', modelListSchema); // nothing stored by either check
  assert.deepEqual(listed.map((item) => item.id), [model.id]);
});

test('@orq-ai/node lists the router models (models.list)', async () => {
  const listed = await orq.models.list();
  assert.equal(listed.object, 'list');
  assert.deepEqual(listed.data.map((entry) => entry.id), [model.refId]);
});

test('openai lists the router models', async () => {
  const ids = [];
  for await (const entry of openai.models.list()) ids.push(entry.id);
  assert.deepEqual(ids, [model.refId]);
});

let answer; // the text of the unstreamed completion

test('openai: chat completion through /v3/router', async () => {
  const completion = await openai.chat.completions.create({ model: model.refId, messages: question });
  answer = completion.choices[0].message.content;
  assert.equal(completion.object, 'chat.completion');
  assert.ok(answer, 'an empty answer');
  assert.ok(completion.usage.total_tokens > 0);
});

test('openai: streamed chat completion, every chunk read', async () => {
  const stream = await openai.chat.completions.create({
    model: model.refId,
    messages: question,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let chunks = 0;
  let usage = null;
  for await (const chunk of stream) {
    chunks += 1;
    assert.equal(chunk.object, 'chat.completion.chunk');
    text += chunk.choices[0]?.delta?.content ?? '';
    usage = chunk.usage ?? usage;
  }
  assert.ok(chunks > 1, `one chunk only: ${text}`);
  assert.equal(text, answer);
  assert.ok(usage && usage.total_tokens > 0, 'no usage chunk');
});

test('@orq-ai/node deletes the model (models.delete)', async () => {
  await orq.models.delete({ id: model.id });
  const response = await fetch(`${relaygate}/v2/models/${model.id}`, {
    headers: { authorization: `Bearer ${adminKey}` },
  });
  assert.equal(response.status, 404);
  const listed = await orq.models.list();
  assert.deepEqual(listed.data, []);
});
