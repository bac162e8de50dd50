import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { flushTargets } from './flush-targets.js';
import { flushConntrack, parseConntrackList } from './conntrack-flush.js';
import { execFile, type Exec } from '../iproute/exec.js';
import { plan } from '../../planner/plan.js';
import { baseCluster, pod, policy, snapshotOf } from '../../planner/testing/cluster.js';

const web = (extra: Record<string, unknown> = {}) =>
  policy('default', 'web', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } }, ...extra });
const pods = [pod('default', 'c', 'worker-1', ['10.244.1.5'], { app: 'web' }), pod('default', 'd', 'worker-1', ['10.244.1.6'], { app: 'web' })];

test('a policy going inactive on a worker flushes its pods; one still active, or a move to another gateway node, flushes nothing', () => {
  const active = plan(snapshotOf([...baseCluster(), ...pods, web()]), 'worker-1');
  const inactive = plan(snapshotOf([...baseCluster(), ...pods, web({ egressGatewayName: 'missing' })]), 'worker-1');
  const gone = plan(snapshotOf([...baseCluster(), ...pods]), 'worker-1');
  assert.deepEqual(flushTargets(active, inactive).pods, [
    { ip: '10.244.1.5', family: 4 },
    { ip: '10.244.1.6', family: 4 },
  ]);
  assert.deepEqual(
    flushTargets(active, gone).pods.map((p) => p.ip),
    ['10.244.1.5', '10.244.1.6'],
  );
  assert.deepEqual(flushTargets(active, active).pods, []);
  assert.deepEqual(flushTargets(inactive, active).pods, [], 'activation flushes nothing');
  assert.deepEqual(flushTargets(undefined, inactive).pods, [], 'no previous plan (a restart): nothing known to flush');
  const onGateway = (node: string) =>
    plan(
      snapshotOf([
        ...baseCluster(),
        ...pods,
        policy(
          'default',
          'web',
          { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } },
          { status: { node, eip: { ipv4: '198.18.0.110' } } },
        ),
      ]),
      'worker-1',
    );
  const moved = onGateway('gateway-2');
  assert.deepEqual(flushTargets(onGateway('gateway-1'), moved).pods, [], 'the EIP moved between gateway nodes: flows keep going (the new carrier picks them up)');
  assert.ok(flushTargets(active, inactive).cluster.length > 0, 'cluster destinations are known, so their entries stay');
});

test('a gateway node that no longer holds an EIP flushes the entries SNATed to it', () => {
  const carried = snapshotOf([
    ...baseCluster(),
    ...pods,
    policy(
      'default',
      'web',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } },
      { status: { node: 'gateway-1', eip: { ipv4: '198.18.0.110' } } },
    ),
  ]);
  const moved = snapshotOf([
    ...baseCluster(),
    ...pods,
    policy(
      'default',
      'web',
      { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'web' } } } },
      { status: { node: 'gateway-2', eip: { ipv4: '198.18.0.110' } } },
    ),
  ]);
  assert.deepEqual(flushTargets(plan(carried, 'gateway-1'), plan(moved, 'gateway-1')).eips, [{ ip: '198.18.0.110', family: 4 }]);
  assert.deepEqual(flushTargets(plan(moved, 'gateway-2'), plan(moved, 'gateway-2')).eips, []);
});

test('conntrack -L lines: the original tuple is the first one', () => {
  const text = [
    'tcp      6 59 ESTABLISHED src=10.244.1.7 dst=198.18.9.9 sport=1000 dport=80 [UNREPLIED] src=198.18.9.9 dst=10.244.1.7 sport=80 dport=1000 mark=0 use=1',
    'icmp     1 29 src=10.244.1.7 dst=198.18.9.9 type=8 code=0 id=7 src=198.18.9.9 dst=10.244.1.7 type=0 code=0 id=7 mark=0 use=1',
    'conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.',
    '',
  ].join('\n');
  assert.deepEqual(parseConntrackList(text), [
    { proto: 'tcp', src: '10.244.1.7', dst: '198.18.9.9', sport: '1000', dport: '80' },
    { proto: 'icmp', src: '10.244.1.7', dst: '198.18.9.9' },
  ]);
});

const root =
  process.getuid?.() === 0 &&
  (() => {
    try {
      execFileSync('conntrack', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

test(
  "in a network namespace: a pod's external entries and those SNATed to a dropped EIP go; cluster and other entries stay",
  { skip: root ? false : 'needs root and the conntrack tool' },
  async () => {
    const ns = `sluice-ct-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const inNs: Exec = (file, args, input) => execFile('ip', ['netns', 'exec', ns, file, ...args], input);
      const insert = (args: string[]) => execFileSync('ip', ['netns', 'exec', ns, 'conntrack', '-I', '-t', '60', ...args], { stdio: 'ignore' });
      insert(['-p', 'udp', '-s', '10.244.1.5', '-d', '198.18.9.9', '--sport', '1000', '--dport', '2000']);
      insert(['-p', 'tcp', '-s', '10.244.1.5', '-d', '198.18.9.9', '--sport', '1001', '--dport', '80', '--state', 'ESTABLISHED']);
      insert(['-p', 'udp', '-s', '10.244.1.5', '-d', '10.96.0.10', '--sport', '1002', '--dport', '53']);
      insert(['-p', 'udp', '-s', '10.244.1.6', '-d', '198.18.9.9', '--sport', '1003', '--dport', '2000']);
      insert(['-p', 'udp', '-s', '10.244.2.8', '-d', '198.18.9.9', '--sport', '1004', '--dport', '2000', '--src-nat', '198.18.0.110']);
      const result = await flushConntrack(inNs, {
        pods: [{ ip: '10.244.1.5', family: 4 }],
        eips: [
          { ip: '198.18.0.110', family: 4 },
          { ip: '198.18.0.111', family: 4 },
        ],
        cluster: [{ family: 4, start: 0x0a600000n, end: 0x0a6fffffn }],
      });
      assert.deepEqual(result, { deleted: 3, errors: [] });
      const left = parseConntrackList((await inNs('conntrack', ['-L'])).stdout)
        .map((e) => `${e.src}>${e.dst}`)
        .sort();
      assert.deepEqual(left, ['10.244.1.5>10.96.0.10', '10.244.1.6>198.18.9.9']);
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  },
);
