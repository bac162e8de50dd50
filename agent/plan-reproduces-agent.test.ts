import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { stringify } from 'yaml';
import { ClusterStore } from '../lib/cluster/store.js';
import type { StoreKind } from '../lib/cluster/kinds.js';
import { everyRuleCluster, nodeTunnel } from '../lib/planner/testing/cluster.js';
import { registerAgent } from './commands/agent.js';
import { agentConfigFromFlags } from './config-flags.js';
import { planForNode } from './plan-for-node.js';

const CLI = join(process.cwd(), 'dist', 'agent', 'main.js');

/** Every setting that shapes a plan away from its default, as an operator would give them to the agent. */
const AGENT_ARGS = [
  '--interface',
  'lan0',
  '--nft-table',
  'egress2',
  '--vxlan-device',
  'egx.vxlan',
  '--vxlan-id',
  '4242',
  '--vxlan-port',
  '4790',
  '--vxlan-mtu',
  '1400',
  '--mark-mask',
  '0x3f',
  '--table-base',
  '4100',
  '--rule-priority-base',
  '8100',
  '--service-cidr',
  '10.100.0.0/16',
  '--firewall-dns-port',
  '5300',
  '--firewall-log-group',
  '7100',
  '--firewall-log-rate',
  '3',
];

const CLUSTER = [...everyRuleCluster(), nodeTunnel('worker-1', 1), nodeTunnel('gateway-1', 2, 1), nodeTunnel('gateway-2', 3, 2)];

/** The flags `sluice agent ARGS` would run with, parsed by the agent command itself. */
async function agentFlags(args: readonly string[]): Promise<Record<string, unknown>> {
  const program = new Command().exitOverride();
  registerAgent(program);
  let flags: Record<string, unknown> | undefined;
  program.commands.find((c) => c.name() === 'agent')!.action((f: Record<string, unknown>) => void (flags = f));
  await program.parseAsync(['agent', ...args], { from: 'user' });
  return flags!;
}

/** The plan the agent computes for `node`: the objects as its informers deliver them into its store, its config from its flags. */
async function agentPlan(node: string): Promise<string> {
  const flags = await agentFlags(['--node', node, ...AGENT_ARGS]);
  const config = agentConfigFromFlags(flags, flags.interface as string);
  const store = new ClusterStore();
  for (const doc of CLUSTER) store.upsert('watch', doc.kind as StoreKind, doc);
  store.setPodsComplete(true);
  return JSON.stringify(planForNode(store.snapshot(config), { node, parentInterface: flags.interface as string }));
}

function cliPlan(file: string, node: string, args: readonly string[]): string {
  const r = spawnSync(process.execPath, [CLI, 'plan', '--cluster', file, '--node', node, ...args, '-o', 'json'], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.stringify(JSON.parse(r.stdout));
}

test("sluice plan with an agent's flags gives that agent's plan, byte for byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-plan-'));
  try {
    const file = join(dir, 'cluster.yaml');
    writeFileSync(file, CLUSTER.map((d) => stringify(d)).join('---\n'));
    for (const node of ['worker-1', 'gateway-1']) {
      const expected = await agentPlan(node);
      assert.equal(cliPlan(file, node, AGENT_ARGS), expected, node);
      // the flags reach the plan: with the defaults it is another one
      assert.notEqual(cliPlan(file, node, []), expected, `${node}: the flags change nothing`);
      const plan = JSON.parse(expected);
      assert.equal(plan.nft.name, 'egress2');
      assert.equal(plan.vxlan.device, 'egx.vxlan');
      assert.equal(plan.vxlan.parent, 'lan0');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
