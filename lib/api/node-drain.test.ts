import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeDrain } from './node-drain.js';
import { parseNode } from './parse-core.js';
import { DRAIN_ANNOTATION } from './group.js';

const meta = (value?: unknown) => ({ name: 'n', ...(value !== undefined ? { annotations: { [DRAIN_ANNOTATION]: value } } : {}) });

test('the cordon drains on its own; the annotation drains, or keeps a cordoned node eligible', () => {
  const cases: { name: string; annotation?: unknown; cordoned: boolean; drained: boolean; by?: string }[] = [
    { name: 'neither', cordoned: false, drained: false },
    { name: 'cordon alone', cordoned: true, drained: true, by: 'cordon' },
    { name: 'annotation true', annotation: 'true', cordoned: false, drained: true, by: 'annotation' },
    { name: 'annotation TRUE with blanks', annotation: ' TRUE ', cordoned: false, drained: true, by: 'annotation' },
    { name: 'annotation true and cordoned', annotation: 'true', cordoned: true, drained: true, by: 'annotation' },
    { name: 'annotation false opts a cordoned node out', annotation: 'false', cordoned: true, drained: false, by: 'annotation' },
    { name: 'annotation false, not cordoned', annotation: 'false', cordoned: false, drained: false },
  ];
  for (const c of cases) {
    const d = nodeDrain(meta(c.annotation), c.cordoned);
    assert.equal(d?.drained ?? false, c.drained, c.name);
    assert.equal(d?.by, c.by, c.name);
    assert.equal(d?.invalid, undefined, c.name);
  }
});

test('an invalid annotation is reported and ignored: the cordon alone decides', () => {
  for (const bad of ['yes', '', 'true; rm -rf /', 'x'.repeat(5000), 1, true, null, ['true'], { a: 1 }]) {
    const free = nodeDrain(meta(bad), false);
    assert.equal(free?.drained, false, `${JSON.stringify(bad)}: not drained`);
    assert.match(free!.invalid!, /is neither "true" nor "false"; ignored/);
    assert.ok(free!.invalid!.length < 200, 'a long value is cut in the report');
    const cordoned = nodeDrain(meta(bad), true);
    assert.deepEqual({ drained: cordoned?.drained, by: cordoned?.by }, { drained: true, by: 'cordon' });
  }
  assert.equal(nodeDrain({ name: 'n', annotations: 'junk' }, 'yes'), undefined, 'junk annotations and a non-boolean unschedulable are neither');
});

test('parseNode carries the drain state; a node that is neither has none', () => {
  const base = { apiVersion: 'v1', kind: 'Node', status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  assert.equal(parseNode({ ...base, metadata: { name: 'a' } }).value!.drain, undefined);
  assert.deepEqual(parseNode({ ...base, metadata: { name: 'a' }, spec: { unschedulable: true } }).value!.drain, { drained: true, by: 'cordon' });
  const bad = parseNode({ ...base, metadata: { name: 'a', annotations: { [DRAIN_ANNOTATION]: 'soon' } } });
  assert.equal(bad.problems.length, 0, 'an invalid annotation never rejects the node');
  assert.equal(bad.value!.drain!.drained, false);
});
