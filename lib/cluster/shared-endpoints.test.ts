import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint, EndpointSlice } from '../api/model.js';
import { deepFreeze } from '../api/freeze.js';
import { SharedEndpoints } from './shared-endpoints.js';

const endpoint = (pod: string, node = 'n1', ipv4 = ['10.0.0.1']): Endpoint => ({ namespace: 'ns', pod, node, ipv4, ipv6: [] });
const slice = (name: string, ...endpoints: Endpoint[]): EndpointSlice => deepFreeze({ name, namespace: 'ns', policyKey: `EgressPolicy/ns/${name}`, endpoints });

test('slices that list a pod alike hold one endpoint object; what they say is unchanged', () => {
  const shared = new SharedEndpoints();
  const a = shared.adopt(slice('a', endpoint('p1'), endpoint('p2', 'n2', ['10.0.0.2'])));
  const b0 = slice('b', endpoint('p2', 'n2', ['10.0.0.2']), endpoint('p3'));
  const b = shared.adopt(b0);
  assert.equal(b.endpoints[0], a.endpoints[1]);
  assert.deepEqual(b, b0);
  assert.notEqual(b, b0);
  assert.ok(Object.isFrozen(b) && Object.isFrozen(b.endpoints));
  assert.equal(shared.size, 3);
});

test('a slice with nothing to share is kept as it is', () => {
  const shared = new SharedEndpoints();
  const a = slice('a', endpoint('p1'));
  assert.equal(shared.adopt(a), a);
});

test("an endpoint that differs from its pod's shared one stays its own", () => {
  const shared = new SharedEndpoints();
  shared.adopt(slice('a', endpoint('p1', 'n1', ['10.0.0.1'])));
  for (const moved of [endpoint('p1', 'n2', ['10.0.0.1']), endpoint('p1', 'n1', ['10.0.0.9']), { ...endpoint('p1'), ipv6: ['fd00::1'] }]) {
    const b = slice('b', moved);
    assert.equal(shared.adopt(b).endpoints[0], moved);
  }
});

test('a pod leaves the table with the last slice that holds it', () => {
  const shared = new SharedEndpoints();
  const a = shared.adopt(slice('a', endpoint('p1'), endpoint('p2')));
  const b = shared.adopt(slice('b', endpoint('p1')));
  shared.release(a);
  assert.equal(shared.size, 1, 'p1 is still in b');
  const c = shared.adopt(slice('c', endpoint('p1')));
  assert.equal(c.endpoints[0], b.endpoints[0]);
  shared.release(b);
  shared.release(c);
  assert.equal(shared.size, 0);
  // an endpoint the table never counted (it differed) releases nothing
  const d = shared.adopt(slice('d', endpoint('p1')));
  shared.release(shared.adopt(slice('e', endpoint('p1', 'n9'))));
  assert.equal(shared.size, 1);
  assert.equal(shared.adopt(slice('f', endpoint('p1'))).endpoints[0], d.endpoints[0]);
});
