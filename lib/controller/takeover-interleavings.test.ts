/**
 * The order in which reports and status arrive decides whether a claim is followed; the
 * controller only looks between arrivals (one pass per batch). Each case feeds a store in one
 * order and asks at the points a pass could run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterStore } from '../cluster/store.js';
import { silentLogger } from '../kube/logger.js';
import { DEFAULT_CONFIG } from '../planner/config.js';
import { baseCluster, node, policy, tunnel } from '../planner/testing/cluster.js';
import { ClaimOrder } from './claim-order.js';
import { reportLookup } from './policy-programmed.js';
import { resolveFollowingTakeovers } from './takeovers.js';

// As in takeovers.test.ts: the EIP is on gateway-3; with it not eligible the owner function picks gateway-1.
const A = 'gateway-3';
const B = 'gateway-1';

function cluster() {
  const store = new ClusterStore();
  let rv = 0;
  const put = (kind: Parameters<ClusterStore['upsert']>[1], doc: Record<string, unknown>) =>
    store.upsert('test', kind, { ...doc, metadata: { ...(doc.metadata as object), resourceVersion: String(++rv), generation: 1 } });
  for (const doc of [...baseCluster(), node('gateway-3', 4, { labels: { egress: 'true' } })]) put(doc.kind as 'Node', doc);
  const setStatus = (holder: string) =>
    put(
      'EgressPolicy',
      policy('default', 'web', { egressGatewayName: 'default', appliedTo: { podSubnet: ['10.244.0.0/16'] } }, { status: { eip: { ipv4: '198.18.0.110' }, node: holder } }),
    );
  setStatus(A);
  const order = new ClaimOrder(store, reportLookup(store, silentLogger()));
  let version = 0;
  /** `reporter` applied web for `carrier` (each report differs from the last: a new apply). */
  const report = (reporter: string, carrier: string) =>
    put(
      'EgressTunnel',
      tunnel(reporter, { applied: { result: 'Applied', message: `apply ${++version}`, policies: [{ namespace: 'default', name: 'web', generation: 1, node: carrier }] } }),
    );
  /** What a controller pass now would do: the node it keeps web on, and whether that follows a claim. */
  const pass = () => {
    const followed = resolveFollowingTakeovers(store.snapshot(DEFAULT_CONFIG), order, reportLookup(store, silentLogger()));
    return { node: followed.resolution.assignment.policies.get('default/web')?.node, takeover: followed.takeovers.get('default/web')?.to };
  };
  /** A pass that writes what it decided. */
  const write = () => {
    const p = pass();
    setStatus(p.node!);
    return p;
  };
  return { report, pass, write };
}

test('the successor claims, then the holder says it still carries the policy, then the claim goes: status never moves', () => {
  const c = cluster();
  c.report(A, A);
  c.report(B, B);
  c.report(A, A);
  assert.deepEqual(c.pass(), { node: A, takeover: undefined }, 'the holder spoke after the claim');
  c.report(B, A);
  assert.deepEqual(c.write(), { node: A, takeover: undefined });
  assert.deepEqual(c.pass(), { node: A, takeover: undefined });
});

test('the successor claims and status follows; then the claim goes and the old holder says it carries the policy: status stays', () => {
  const c = cluster();
  c.report(A, A);
  c.report(B, B);
  assert.deepEqual(c.write(), { node: B, takeover: B });
  assert.deepEqual(c.pass(), { node: B, takeover: undefined }, 'status says it now: nothing left to follow');
  c.report(B, A);
  c.report(A, A);
  assert.deepEqual(c.pass(), { node: B, takeover: undefined }, "the old holder's claim is older than the status it contests");
  assert.deepEqual(c.write(), { node: B, takeover: undefined });
});

test('a claim that goes and comes back before a pass is followed once', () => {
  const c = cluster();
  c.report(A, A);
  c.report(B, B);
  c.report(B, A);
  assert.deepEqual(c.pass(), { node: A, takeover: undefined }, 'withdrawn at the time of the pass');
  c.report(B, B);
  assert.deepEqual(c.write(), { node: B, takeover: B });
  c.report(B, B);
  assert.deepEqual(c.write(), { node: B, takeover: undefined });
});

test('the holder dies after its last report; a claim then is followed, and the holder healing later takes nothing back', () => {
  const c = cluster();
  c.report(A, A);
  c.report(B, B);
  assert.deepEqual(c.write(), { node: B, takeover: B });
  // healed: it first re-applies what it last planned, then follows status
  c.report(A, A);
  assert.deepEqual(c.pass(), { node: B, takeover: undefined });
  c.report(A, B);
  assert.deepEqual(c.write(), { node: B, takeover: undefined });
});

test('a handoff: the holder applies the move to its successor itself, which then claims', () => {
  const c = cluster();
  c.report(A, A);
  c.report(A, B);
  assert.deepEqual(c.pass(), { node: A, takeover: undefined }, 'no claim yet');
  c.report(B, B);
  assert.deepEqual(c.write(), { node: B, takeover: B });
});
