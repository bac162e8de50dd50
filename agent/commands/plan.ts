import type { Command } from 'commander';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { renderPlanText } from '../../lib/planner/plan-text.js';
import { tableText } from '../../lib/planner/nft/render.js';
import { AGENT_FLAGS, addConfigFlags, agentConfigFromFlags } from '../config-flags.js';
import { planForNode } from '../plan-for-node.js';
import { outputOption, writeStructured } from '../output.js';

interface PlanFlags {
  cluster: string;
  node: string;
  interface?: string;
  output: 'text' | 'json' | 'yaml' | 'nft';
  [config: string]: unknown;
}

export function registerPlan(program: Command): void {
  const command = program
    .command('plan')
    .description("compile a cluster (YAML of Nodes, Namespaces, Pods and egress objects) into one node's dataplane plan; with the node agent's flags, the plan that agent applies")
    .requiredOption('--cluster <path>', 'YAML/JSON file or folder of them')
    .requiredOption('--node <name>', 'the node to plan for')
    .option(
      '--interface <nic>',
      "the node's NIC as its agent has it (its --interface, or the one it detected: `sluice status` shows it); default: what the node's EgressTunnel reports",
    )
    .addOption(outputOption(['text', 'json', 'yaml', 'nft'], 'text'));
  addConfigFlags(command, AGENT_FLAGS).action(async (flags: PlanFlags) => {
    const config = agentConfigFromFlags(flags, flags.interface);
    const { objects, problems } = parseSources(await loadDocuments(flags.cluster));
    for (const p of problems) process.stderr.write(`warning: skipped ${p.line}\n`);
    const nodePlan = planForNode(snapshotFromObjects(objects, config), { node: flags.node, ...(flags.interface === undefined ? {} : { parentInterface: flags.interface }) });
    if (flags.output === 'json' || flags.output === 'yaml') writeStructured(flags.output, nodePlan);
    else if (flags.output === 'nft') process.stdout.write(tableText(nodePlan.nft));
    else process.stdout.write(renderPlanText(nodePlan));
  });
}
