import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplyGate, RESYNC_REASON } from './apply-gate.js';

test('an unchanged plan is applied again only on a resync, and never after a failed apply', () => {
  const gate = new ApplyGate();
  const a = ApplyGate.fingerprint({ policies: [{ key: 'default/web' }] });
  const b = ApplyGate.fingerprint({ policies: [{ key: 'default/web' }, { key: 'default/db' }] });
  const event = new Set(['EgressPolicy upsert']);
  assert.equal(gate.shouldApply(a, event), true, 'the first plan');
  gate.applied(a, true);
  assert.equal(gate.shouldApply(a, event), false, 'the same plan after an unrelated change');
  assert.equal(gate.shouldApply(a, new Set([RESYNC_REASON])), true, 'the periodic resync');
  assert.equal(gate.shouldApply(b, event), true, 'a changed plan');
  gate.applied(b, false);
  assert.equal(gate.shouldApply(b, event), true, 'a plan whose apply failed is retried');
});
