import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sliceNamer } from './slice-names.js';

test('slice names are deterministic, DNS-safe and skip taken ones', () => {
  const a = sliceNamer('web', 'uid-1', new Set());
  const b = sliceNamer('web', 'uid-1', new Set());
  const first = a();
  assert.equal(first, b(), 'same policy and state give the same name');
  assert.match(first, /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  const taken = new Set([first]);
  const c = sliceNamer('web', 'uid-1', taken);
  assert.notEqual(c(), first);
  const long = sliceNamer(`${'x'.repeat(252)}`, 'u', new Set())();
  assert.ok(long.length <= 253);
});
