import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundaryViolations } from './boundaries.js';

const file = (path: string, ...imports: string[]) => ({ path, text: imports.map((spec, i) => `import { x${i} } from '${spec}';`).join('\n') });

test('lib/kube may read the JSON field readers and the meta/v1 shapes of lib/api, nothing else of it', () => {
  assert.deepEqual(boundaryViolations([file('lib/kube/conditions.ts', '../api/fields.js', '../api/meta.js', '../errors.js', './rest-client.js')]), []);
  for (const spec of ['../api/wire.js', '../api/group.js', '../api/model.js', '../api/parse-document.js']) {
    const found = boundaryViolations([file('lib/kube/informer.ts', spec)]);
    assert.equal(found.length, 1, spec);
    assert.match(found[0]!, /lib\/kube is generic/);
  }
});

test('lib/kube imports neither the planner, the store of our kinds nor the controller', () => {
  for (const spec of ['../planner/snapshot.js', '../cluster/store.js', '../controller/controller.js']) {
    assert.equal(boundaryViolations([file('lib/kube/reconciler.ts', spec)]).length, 1, spec);
  }
  // a dynamic import is an import too
  assert.equal(boundaryViolations([{ path: 'lib/kube/x.ts', text: "const m = await import('../planner/plan.js');" }]).length, 1);
});

test('tests are outside the boundaries (they may build fixtures from anything)', () => {
  assert.deepEqual(boundaryViolations([file('lib/kube/informer.test.ts', '../planner/testing/cluster.js')]), []);
});

test('the other layers keep theirs: the planner is pure, lib/ never imports agent/', () => {
  assert.equal(boundaryViolations([file('lib/planner/plan.ts', 'node:fs')]).length, 1);
  assert.equal(boundaryViolations([file('lib/planner/plan.ts', '../cluster/store.js')]).length, 1);
  assert.equal(boundaryViolations([file('lib/cluster/store.ts', '../../agent/logger.js')]).length, 1);
  assert.equal(boundaryViolations([file('lib/cluster/store.ts', '../dataplane/nft/driver.js')]).length, 1);
  assert.deepEqual(boundaryViolations([file('lib/cluster/store.ts', '../api/parse-document.js', '../planner/snapshot.js', '../kube/rest-client.js')]), []);
});
