// What every Node SDK test reads from tests/node/test_node_sdks.py: relaygate's address,
// an admin key, and the @orq-ai/node client on them (no client-side retries).

import assert from 'node:assert/strict';

import orqPackage from '@orq-ai/node';

const { Orq } = orqPackage;

export function required(name) {
  const value = process.env[name];
  assert.ok(value, `set ${name}`);
  return value;
}

export const relaygate = required('RELAYGATE_URL');
export const adminKey = required('RELAYGATE_ADMIN_KEY');
export const orq = new Orq({ apiKey: adminKey, serverURL: relaygate, retryConfig: { strategy: 'none' } });
