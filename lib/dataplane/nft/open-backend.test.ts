import assert from 'node:assert/strict';
import { test } from 'node:test';
import { openNftBackend } from './open-backend.js';

test('falls back to the nft CLI, with one warning, when libnftables cannot be loaded', () => {
  const warnings: Record<string, unknown>[] = [];
  const log = { debug() {}, info() {}, warn: (obj: Record<string, unknown>) => void warnings.push(obj) };
  const backend = openNftBackend(log, 'libnftables-missing.so.0');
  assert.equal(backend.kind, 'cli');
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]?.op, 'nft-open');
  assert.match(String(warnings[0]?.err), /libnftables-missing\.so\.0/);
  backend.close();
});
