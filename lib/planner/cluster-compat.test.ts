/**
 * The rules that let sluice live beside kube-proxy and CNIs that masquerade and mark: where each
 * chain hooks in, which packets keep their source, where our mark bits end, and which masks are
 * refused. The lab scenarios (e2e/scenarios/cluster-compat) prove the same with packets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { plan } from './plan.js';
import { DEFAULT_CONFIG, hereMark, markValue, maxMarkIndex, resolveConfig } from './config.js';
import { KNOWN_MARKS, REFUSED_MARK_BITS, hex, markOverlaps } from './known-marks.js';
import { ruleText } from './nft/render.js';
import { PRIORITY_BASES } from './nft/vocabulary.js';
import type { NodePlan } from './node-plan.js';
import { baseCluster, pod, policy, snapshotOf } from './testing/cluster.js';

const visitorPolicy = policy('default', 'test', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } });
const visitor = pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' });

/** The worker's plan and the carrier's, with a selected pod on each. */
function plans(): { worker: NodePlan; gateway: NodePlan } {
  const first = snapshotOf([...baseCluster(), visitor, visitorPolicy]);
  const carrier = plan(first, 'worker-1').policies[0]!.node!;
  const localIndex = carrier === 'gateway-1' ? 2 : 3;
  const snapshot = snapshotOf([...baseCluster(), visitor, pod('default', 'local', carrier, [`10.244.${localIndex}.5`], { app: 'visitor' }), visitorPolicy]);
  return { worker: plan(snapshot, 'worker-1'), gateway: plan(snapshot, carrier) };
}

const chain = (p: NodePlan, name: string) => p.nft.chains.find((c) => c.name === name)!;
const texts = (p: NodePlan, name: string) => chain(p, name).rules.map(ruleText);
const priority = (p: NodePlan, name: string) => PRIORITY_BASES[chain(p, name).priority.base] + chain(p, name).priority.offset;
/** As nft text writes marks: 8 hex digits. */
const markText = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const keep = markText(~DEFAULT_CONFIG.markMask);

test("pods' packets are marked after kube-proxy's DNAT, so a Service address is judged by its backend's", () => {
  for (const p of Object.values(plans())) {
    const at = priority(p, 'egress_mark');
    assert.ok(at > PRIORITY_BASES.dstnat && at < PRIORITY_BASES.filter, `egress_mark at ${at}: after dstnat (-100), before filter`);
    assert.equal(chain(p, 'egress_mark').hook, 'prerouting');
  }
});

test('a local pod is recognised by the route back to it, not by the interfaces it did not come from', () => {
  const { worker, gateway } = plans();
  const workerRule = texts(worker, 'egress_mark').find((r) => r.endsWith('comment "worker default/test"'))!;
  const localRule = texts(gateway, 'egress_mark').find((r) => r.endsWith('comment "local default/test"'))!;
  for (const r of [workerRule, localRule]) {
    assert.match(r, /fib saddr \. iif oif != 0 counter/, r);
    assert.match(r, /^iifname != \{ "egress\.vxlan", "eth0" \} /, r);
  }
  // Tunnel traffic is matched by its own rule, against every selected pod in the cluster.
  const tunnelRule = texts(gateway, 'egress_mark').find((r) => r.endsWith('comment "gateway default/test"'))!;
  assert.match(tunnelRule, /^iifname "egress\.vxlan" /);
  assert.doesNotMatch(tunnelRule, /fib/);
});

test('our mark bits end in postrouting before anyone else sees them: tunnel traffic everywhere, "SNAT here" on the gateway', () => {
  const { worker, gateway } = plans();
  const here = markText(hereMark(DEFAULT_CONFIG));
  for (const p of [worker, gateway]) {
    assert.equal(chain(p, 'egress_unmark').hook, 'postrouting');
    assert.equal(priority(p, 'egress_unmark'), PRIORITY_BASES.raw, 'ahead of mangle, kube-proxy and every NAT chain');
    assert.ok(texts(p, 'egress_unmark').includes(`oifname "egress.vxlan" meta mark set meta mark & ${keep}`), texts(p, 'egress_unmark').join('\n'));
  }
  assert.ok(texts(gateway, 'egress_unmark').includes(`ct mark & ${here} == ${here} meta mark set meta mark & ${keep}`));
  assert.equal(texts(worker, 'egress_unmark').length, 1, 'a worker clears only what it sends into the tunnel');
});

test("connections into the tunnel keep the pod's source: a NAT binding ahead of any CNI masquerade", () => {
  const { worker, gateway } = plans();
  for (const p of [worker, gateway]) {
    assert.ok(priority(p, 'egress_snat') < PRIORITY_BASES.srcnat, 'before srcnat (100), where CNIs and kube-proxy masquerade');
    const rules = texts(p, 'egress_snat');
    assert.ok(rules.includes('oifname "egress.vxlan" snat ip to ip saddr'), rules.join('\n'));
    assert.ok(rules.includes('oifname "egress.vxlan" snat ip6 to ip6 saddr'), rules.join('\n'));
  }
  // The gateway's SNAT reads the conntrack mark: the packet's own bits are gone by then.
  const snat = texts(gateway, 'egress_snat').find((r) => r.endsWith('comment "snat default/test"'))!;
  assert.match(snat, /^ct mark & 0x0000007f == 0x0000007f ip saddr @p_\w+_all4 counter snat ip to 198\.18\.0\.110/);
});

test('the default marks stay clear of kube-proxy, Calico, Cilium, AWS VPC CNI and Antrea', () => {
  assert.deepEqual(markOverlaps(DEFAULT_CONFIG.markMask), []);
  const values = [hereMark(DEFAULT_CONFIG), ...Array.from({ length: maxMarkIndex(DEFAULT_CONFIG) }, (_, i) => markValue(DEFAULT_CONFIG, i + 1))];
  assert.equal(values.length, 127, '126 gateway nodes and "SNAT here"');
  for (const v of values) assert.equal((v & REFUSED_MARK_BITS) >>> 0, 0, hex(v));
  for (const p of Object.values(plans())) {
    for (const r of p.routing.rules) assert.equal((r.mask & (0x4000 | 0x8000)) >>> 0, 0, `ip rule mask ${hex(r.mask)} clear of kube-proxy`);
  }
});

test('a mark mask over bits that others use is refused, naming them, unless the overlap is allowed', () => {
  const cases: [number, string[]][] = [
    [0xff00, ['kube-proxy', 'kube-proxy', 'Cilium', 'Cilium']],
    [0xff0000, ['Calico']],
    [0xff, ['AWS VPC CNI']],
    [0x300, ['Cilium']],
  ];
  for (const [mask, owners] of cases) {
    assert.deepEqual(
      markOverlaps(mask).map((m) => m.owner),
      owners,
      hex(mask),
    );
    assert.throws(
      () => resolveConfig({ markMask: mask }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, 'EGW_ERR_MARK_OVERLAP');
        for (const o of owners) assert.ok(err.message.includes(o), `${err.message} names ${o}`);
        assert.match(err.message, /--allow-mark-overlap/);
        return true;
      },
    );
    assert.equal(resolveConfig({ markMask: mask }, { allowMarkOverlap: true }).markMask, mask);
  }
  assert.equal(resolveConfig({ markMask: 0x3f }).markMask, 0x3f, 'a narrower mask inside the clear bits');
});

test("README's marks table lists every known mark", async () => {
  const readme = await readFile('README.md', 'utf8');
  for (const m of KNOWN_MARKS) assert.ok(readme.includes(`\`${hex(m.bits)}\``) && readme.includes(m.owner), `${m.owner} ${hex(m.bits)} in README`);
});
