/**
 * Install, use and uninstall sluice in the lab, and check that every node is left as it was:
 * the kernel's listings (nft, links, addresses, rules, routes, sysctls) taken before the install
 * and after `sluice cleanup` are identical, with foreign state beside sluice's own (another nft
 * table, rules next to sluice's priority range, routes in tables next to its range, a /32 on the
 * NIC without sluice's tag, another VXLAN device, a sysctl sluice changes) that must survive.
 *
 * The uninstall is the careless one the cleanup exists for: the agents and controllers are
 * deleted while a policy is in force, so the EIP is still on its node and still answers ARP.
 * Before that, a gateway node taken out of the gateway's selector must drop its EIP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { nodeStateDir } from '../labkit/cluster/agent-daemon.js';
import { cleanupNode, installSluice, uninstallSluice } from '../labkit/cluster/install-sluice.js';
import type { NodeState } from '../labkit/state.js';
import { SYSCTL_JOURNAL_FILE } from '../../lib/dataplane/sysctl-journal.js';
import { expectLeavesAs } from '../scenarios/support/echo.js';
import { kubectl, kubectlResult } from '../scenarios/support/kubectl.js';
import { addressesOn } from '../scenarios/support/node-state.js';
import { waitAssigned } from '../scenarios/support/policy-status.js';
import { GATEWAY_NAME, GATEWAY_NODE_LABELS, ScenarioLab, scenarioSkip } from '../scenarios/support/scenario-lab.js';
import { waitFor } from '../scenarios/support/wait.js';
import { cleanupCapabilities, cleanupContainer, daemonSetCapabilities } from './daemonset.js';
import { kernelListing, listingDiff, type KernelListing } from './kernel-listing.js';

const WORKER = 'worker-1';
const VISITOR = 'default/visitor';
const GRACE_SECONDS = 5;
/** The scenarios' failover bound: a node leaving the selector must be no slower than a failed one. */
const FAILOVER_BOUND_MS = (GRACE_SECONDS + 15) * 1000;
const TEST_TIMEOUT_MS = 240_000;
const TCP_LOOSE = 'net.netfilter.nf_conntrack_tcp_loose';

const POLICY = `apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata:
  name: test
  namespace: default
spec:
  egressGatewayName: ${GATEWAY_NAME}
  appliedTo:
    podSelector:
      matchLabels:
        app: "visitor"
`;
const POLICY_REF = { apiVersion: 'egress.sluice.dev/v1alpha1', kind: 'EgressPolicy', metadata: { name: 'test', namespace: 'default' } };

/**
 * What other software keeps on a node, right next to what sluice owns: an nft table of its own, ip
 * rules at 8999 and 9003 around sluice's 9000-9002, routes in tables 2999 and 3255 around its
 * 3000-3254 and in main, a /32 on eth0 without sluice's tag (a VIP of another tool), a VXLAN
 * device on another port, and nf_conntrack_tcp_loose off (sluice turns it on on gateways).
 */
function foreignState(node: NodeState): string {
  const vip = `198.18.0.${220 + node.index}`;
  return `set -e
nft -f - <<'EOF'
table inet foreign {
  chain pre { type filter hook prerouting priority -150; policy accept; meta mark & 0x00004000 == 0x00004000 accept; }
}
table ip foreign4 {
  chain post { type nat hook postrouting priority 110; policy accept; ip saddr 203.0.113.0/24 masquerade; }
}
EOF
ip rule add priority 8999 fwmark 0x4000/0x4000 lookup 2999
ip rule add priority 9003 from 203.0.113.0/24 lookup 3255
ip -6 rule add priority 9003 from 2001:db8::/64 lookup 3255
ip route add blackhole 203.0.113.0/24 table 2999
ip route add blackhole 203.0.113.0/24 table 3255
ip route add blackhole 198.51.100.0/24
ip address add ${vip}/32 dev eth0
ip link add flannel.1 type vxlan id 1 dstport 8472 dev eth0 local ${node.ips[0]} nolearning
ip link set flannel.1 up
sysctl -qw ${TCP_LOOSE}=0
`;
}

describe('uninstall: sluice cleanup leaves every node as it was before sluice', { skip: scenarioSkip }, () => {
  let env: ScenarioLab;
  const installedFrom: Record<string, KernelListing> = {};
  const nodes = async () => (await env.lab.state()).nodes;
  const node = async (name: string) => (await nodes()).find((n) => n.name === name)!;
  const inNode = async (name: string, argv: string[]) => (await env.lab.exec({ node: name }, argv, { allowFailure: true })).stdout.trim();
  const macOf = async (name: string) => (JSON.parse(await inNode(name, ['ip', '-j', 'link', 'show', 'dev', 'eth0'])) as Array<{ address: string }>)[0]!.address;
  /** MACs that answer an ARP request for `ip` on the LAN (asked from the external host). */
  const arpAnswers = async (ip: string): Promise<string[]> => {
    const r = await env.lab.exec({ host: 'ext' }, ['arping', '-r', '-c', '2', '-w', '2', '-i', 'eth0', ip], { allowFailure: true, timeoutMs: 10_000 });
    return [
      ...new Set(
        r.stdout
          .split('\n')
          .map((l) => l.trim().toLowerCase())
          .filter(Boolean),
      ),
    ].sort();
  };
  const journal = async (name: string) => join(nodeStateDir(await env.lab.state(), await node(name)), SYSCTL_JOURNAL_FILE);
  const cleanupRun = (args: string[] = []) => ({ capabilities: cleanupCapabilities(), args: [...args, '-o', 'json'] });
  let eip = '';
  let holder = '';

  before(async () => {
    env = await ScenarioLab.up('cu', {
      workers: 1,
      gateways: 2,
      nodeGraceSeconds: GRACE_SECONDS,
      agents: false,
      // as the DaemonSet runs the agents: two capabilities, /proc/sys read-only, the host's /proc/sys/net under --sysctl-root
      agent: { capabilities: daemonSetCapabilities(), containerProcSys: true },
      pods: [{ namespace: 'default', name: 'visitor', labels: { app: 'visitor' }, node: WORKER }],
    });
    for (const n of await nodes()) {
      await env.lab.exec({ node: n.name }, ['sh', '-c', foreignState(n)]);
      installedFrom[n.name] = await kernelListing(env.lab, n.name);
    }
    await installSluice(env.lab);
  });
  after(async () => env?.down());

  test('installed: the visitor leaves with the EIP; its gateway turned tcp_loose on and journalled the value it found', { timeout: TEST_TIMEOUT_MS }, async () => {
    await kubectl(env.lab, ['apply', '-f', '-'], POLICY);
    // Programmed: status names the node that carries the EIP (it may name another for a moment
    // while a starting node stands aside and the controller has not followed the carrier yet).
    const at = await waitAssigned(env.lab, POLICY_REF, { programmed: true });
    eip = at.ipv4!;
    holder = at.node;
    await expectLeavesAs(env.lab, VISITOR, eip);
    assert.equal(await inNode(holder, ['sysctl', '-n', TCP_LOOSE]), '1', `${holder}: sluice set ${TCP_LOOSE}`);
    const recorded = JSON.parse(await readFile(await journal(holder), 'utf8')) as { sysctls: Record<string, { before: string; set: string }> };
    assert.deepEqual({ before: recorded.sysctls[TCP_LOOSE]?.before, set: recorded.sysctls[TCP_LOOSE]?.set }, { before: '0', set: '1' }, `${holder}: the journal`);
    assert.deepEqual(await arpAnswers(eip), [await macOf(holder)], 'only the holder answers ARP for the EIP');
  });

  test("cleanup refuses while the node's agent runs, and changes nothing", { timeout: TEST_TIMEOUT_MS }, async () => {
    const r = await cleanupNode(env.lab, await node(holder), cleanupRun());
    assert.equal(r.exitCode, 2, r.stdout + r.stderr);
    assert.match(r.stderr, /EGW_ERR_INPUT: an agent answers at http:\/\/127\.0\.0\.1:9466 and would put everything back/);
    assert.ok((await addressesOn(env.lab, holder)).includes(eip), 'the EIP is still held');
    assert.match(await inNode(holder, ['ip', 'link', 'show', 'egress.vxlan']), /egress\.vxlan/);
  });

  test("a gateway node taken out of the gateway's selector drops its EIP; the other gateway answers ARP for it", { timeout: TEST_TIMEOUT_MS }, async (t) => {
    const other = env.gatewayNodes.find((n) => n !== holder)!;
    const t0 = Date.now();
    await kubectl(env.lab, ['label', 'node', holder, `${Object.keys(GATEWAY_NODE_LABELS)[0]}-`]);
    const labelledMs = Date.now() - t0;
    await waitFor(`${holder} to drop ${eip}`, FAILOVER_BOUND_MS, async () => ((await addressesOn(env.lab, holder)).includes(eip) ? undefined : true), 100);
    const droppedMs = Date.now() - t0;
    await expectLeavesAs(env.lab, VISITOR, eip, { timeoutMs: FAILOVER_BOUND_MS - droppedMs });
    const backMs = Date.now() - t0;
    t.diagnostic(
      `kubectl label took ${labelledMs} ms; ${holder} dropped ${eip} ${droppedMs - labelledMs} ms after that, and the visitor left with it through ${other} ${backMs - labelledMs} ms after it`,
    );
    assert.deepEqual(await arpAnswers(eip), [await macOf(other)], `only ${other} answers ARP for ${eip}`);
    assert.equal((await waitAssigned(env.lab, POLICY_REF, { node: other, ipv4: eip })).node, other);
    holder = other;
  });

  test(
    'uninstalled carelessly (agents and controllers deleted while the policy is in force): the EIP is left on its node and still answers ARP',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      await uninstallSluice(env.lab);
      assert.ok((await addressesOn(env.lab, holder)).includes(eip));
      assert.deepEqual(await arpAnswers(eip), [await macOf(holder)]);
      // the rendered manifests' custom resources go too; with no agent left, no node changes
      const deleted = await kubectlResult(env.lab, ['delete', 'egresspolicies.egress.sluice.dev,egressgateways.egress.sluice.dev', '--all', '-A']);
      assert.equal(deleted.exitCode, 0, deleted.stderr);
      assert.ok((await addressesOn(env.lab, holder)).includes(eip));
    },
  );

  test("sluice cleanup --dry-run lists exactly what each node holds of sluice's, and changes nothing", { timeout: TEST_TIMEOUT_MS }, async () => {
    const seen = { link: 0, rules: 0, address: 0, sysctl: 0 };
    for (const n of await nodes()) {
      const listed = await kernelListing(env.lab, n.name);
      // what the agents left, read from the kernel: the dry run must name each and nothing more
      const link = (await inNode(n.name, ['ip', 'link', 'show', 'egress.vxlan'])) !== '';
      const rules = /^900[0-2]:/m.test(await inNode(n.name, ['ip', 'rule', 'show']));
      const address = (await addressesOn(env.lab, n.name)).includes(eip);
      const sysctl = (await inNode(n.name, ['sysctl', '-n', TCP_LOOSE])) === '1';
      const r = await cleanupNode(env.lab, n, cleanupRun(['--dry-run']));
      assert.equal(r.exitCode, 0, r.stderr);
      const report = JSON.parse(r.stdout) as { dryRun: boolean; actions: Array<{ subsystem: string; text: string }> };
      const texts = report.actions.map((a) => a.text);
      const says = `${n.name}: ${texts.join('; ')}`;
      assert.equal(report.dryRun, true);
      assert.ok(texts.includes('delete table inet sluice'), says);
      assert.equal(
        texts.some((x) => x.startsWith('delete link egress.vxlan')),
        link,
        says,
      );
      assert.equal(
        texts.some((x) => /^delete rule pref 900[0-2] /.test(x)),
        rules,
        says,
      );
      assert.equal(texts.includes(`delete address ${eip}/32 on eth0 (no more ARP/NDP answers for it)`), address, says);
      assert.equal(texts.includes(`restore sysctl ${TCP_LOOSE} = 0`), sysctl, says);
      assert.ok(!texts.some((x) => /foreign|flannel|8999|9003|2999|3255|198\.51\.100|198\.18\.0\.22/.test(x)), `nothing foreign: ${says}`);
      assert.deepEqual(listingDiff(listed, await kernelListing(env.lab, n.name)), [], `${n.name}: a dry run changes nothing`);
      seen.link += Number(link);
      seen.rules += Number(rules);
      seen.address += Number(address);
      seen.sysctl += Number(sysctl);
    }
    // every node has its tunnel device and routing rules (a route to each gateway node is kept
    // ready), the holder the EIP, and the node that left the selector kept its tcp_loose
    assert.deepEqual(seen, { link: 3, rules: 3, address: 1, sysctl: 2 });
  });

  test(
    'sluice cleanup, as the cleanup DaemonSet runs it, leaves every node byte-identical to before the install; no ARP answer for the EIP',
    { timeout: TEST_TIMEOUT_MS },
    async () => {
      assert.deepEqual(cleanupContainer().command, ['sluice', 'cleanup']);
      for (const n of await nodes()) {
        const r = await cleanupNode(env.lab, n, cleanupRun());
        assert.equal(r.exitCode, 0, r.stdout + r.stderr);
        const report = JSON.parse(r.stdout) as { ok: boolean; actions: Array<{ error?: string }>; kept: string[] };
        assert.equal(report.ok, true, r.stdout);
        assert.deepEqual(report.kept, [], 'nothing left behind for want of a reason');
        assert.deepEqual(listingDiff(installedFrom[n.name]!, await kernelListing(env.lab, n.name)), [], `${n.name}: the kernel as it was before sluice`);
        assert.equal(existsSync(await journal(n.name)), false, `${n.name}: the journal is gone with what it recorded`);
        const again = await cleanupNode(env.lab, n, { capabilities: cleanupCapabilities() });
        assert.equal(again.exitCode, 0, again.stderr);
        assert.equal(again.stdout.trim(), "nothing of sluice's is left on this node");
      }
      assert.deepEqual(await arpAnswers(eip), [], `nobody answers ARP for ${eip}`);
    },
  );
});
