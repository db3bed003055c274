// relaygate's /v2/datasets and /v2/evaluators through @orq-ai/node 4.15.11, unchanged: every
// answer must pass the SDK's own response validation (zod), which is stricter than Python's
// about nulls, zone-less times, the chat-message union and the closed evaluator types.
//
// Run by tests/node/test_node_sdks.py, which starts relaygate and sets:
//   RELAYGATE_URL        e.g. http://127.0.0.1:8080
//   RELAYGATE_ADMIN_KEY  an admin key of a fresh workspace
//   MODEL_ID             the router id of a chat model of that workspace (the judge)

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { adminKey, orq, relaygate, required } from './environment.js';

const judge = required('MODEL_ID');

/** relaygate's own create body, for the evaluator types the SDK's create call lacks. */
async function createOurs(body) {
  const response = await fetch(`${relaygate}/v2/evaluators`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

let dataset; // made by the first test, used by the next ones
let datapoint;

test('datasets: create, retrieve, list, update', async () => {
  dataset = await orq.datasets.create({ displayName: 'node-set', path: 'Default' });
  assert.equal(dataset.displayName, 'node-set');
  assert.equal(dataset.metadata.datapointsCount, 0);
  assert.ok(dataset.created instanceof Date, 'created is an RFC 3339 time with its zone');
  assert.equal((await orq.datasets.retrieve({ datasetId: dataset.id })).id, dataset.id);
  const listed = await orq.datasets.list();
  assert.deepEqual(listed.data.map((item) => item.id), [dataset.id]);
  const renamed = await orq.datasets.update({ datasetId: dataset.id, requestBody: { displayName: 'node-set-2' } });
  assert.equal(renamed.displayName, 'node-set-2');
});

test('datapoints: the typed message union, absent fields left out, update, delete', async () => {
  const created = await orq.datasets.createDatapoint({
    datasetId: dataset.id,
    requestBody: [
      {
        inputs: { question: 'Refunds?' },
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'text', text: 'Refunds?' }] },
          { role: 'assistant', content: null, toolCalls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] },
          { role: 'tool', content: '30 days', toolCallId: 'c1' },
        ],
        expectedOutput: '30 days.',
      },
      { inputs: { question: 'Shipping?' } },
    ],
  });
  assert.equal(created.length, 2);
  [datapoint] = created;
  assert.equal(datapoint.messages.length, 4);
  assert.equal(created[1].expectedOutput, undefined); // absent, never null: Node rejects null
  const page = await orq.datasets.listDatapoints({ datasetId: dataset.id });
  assert.deepEqual(page.data.map((item) => item.id), created.map((item) => item.id));
  const updated = await orq.datasets.updateDatapoint({
    datasetId: dataset.id,
    datapointId: datapoint.id,
    requestBody: { expectedOutput: 'Thirty days.' },
  });
  assert.equal(updated.expectedOutput, 'Thirty days.');
  const fetched = await orq.datasets.retrieveDatapoint({ datasetId: dataset.id, datapointId: datapoint.id });
  assert.equal(fetched.workspaceId, dataset.workspaceId);
  assert.equal(await orq.datasets.deleteDatapoint({ datasetId: dataset.id, datapointId: created[1].id }), undefined);
});

test('datasets: a missing one is the SDK\'s typed error; clear and delete answer nothing', async () => {
  await assert.rejects(orq.datasets.retrieve({ datasetId: '01JNOSUCHDATASET000000000' }), (error) => {
    assert.equal(error.name, 'HonoApiError');
    assert.match(error.message, /01JNOSUCHDATASET000000000/);
    return true;
  });
  assert.equal(await orq.datasets.clear({ datasetId: dataset.id }), undefined);
  assert.equal((await orq.datasets.retrieve({ datasetId: dataset.id })).metadata.datapointsCount, 0);
  assert.equal(await orq.datasets.delete({ datasetId: dataset.id }), undefined);
});

test('evaluators: every relaygate kind parses as the SDK\'s closed set of types', async () => {
  const created = await orq.evals.create({ type: 'llm_eval', key: 'node-judge', mode: 'single', model: judge, prompt: 'Rate {{output}}' });
  assert.equal(created.type, 'llm_eval');
  await createOurs({ type: 'function_eval', key: 'node-contains', function_params: { type: 'contains_any', keywords: ['refund'] } });
  await createOurs({ type: 'json_schema', key: 'node-schema', schema: '{"type": "object"}' });
  const listed = await orq.evals.all();
  assert.deepEqual(new Set(listed.data.map((item) => item.type)), new Set(['llm_eval', 'function_eval', 'json_schema']));
  for (const item of listed.data) {
    const detailed = await orq.evals.get({ id: item.id });
    assert.equal(detailed.displayName, item.key);
  }
  const updated = await orq.evals.update({ id: created.id, requestBody: { description: 'stricter' } });
  assert.equal(updated.description, 'stricter');
  const versions = await orq.evals.listVersions({ id: created.id });
  assert.equal(versions.data.length, 2);
  assert.ok(await orq.evals.getVersion({ id: created.id, versionId: '1' }));
  assert.equal(await orq.evals.delete({ id: created.id }), undefined);
  await assert.rejects(orq.evals.get({ id: created.id }), (error) => {
    assert.match(error.message, new RegExp(created.id));
    return true;
  });
});
