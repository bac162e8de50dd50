import type { Command } from 'commander';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import { plan } from '../../lib/planner/plan.js';
import { renderPlanText } from '../../lib/planner/plan-text.js';
import { tableText } from '../../lib/planner/nft/render.js';
import { outputOption, writeStructured } from '../output.js';

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description("compile a cluster (YAML of Nodes, Namespaces, Pods and egress objects) into one node's dataplane plan")
    .requiredOption('--cluster <path>', 'YAML/JSON file or folder of them')
    .requiredOption('--node <name>', 'the node to plan for')
    .addOption(outputOption(['text', 'json', 'yaml', 'nft'], 'text'))
    .action(async (opts: { cluster: string; node: string; output: 'text' | 'json' | 'yaml' | 'nft' }) => {
      const { objects, problems } = parseSources(await loadDocuments(opts.cluster));
      for (const p of problems) process.stderr.write(`warning: skipped ${p.line}\n`);
      const nodePlan = plan(snapshotFromObjects(objects, DEFAULT_CONFIG), opts.node);
      if (opts.output === 'json' || opts.output === 'yaml') writeStructured(opts.output, nodePlan);
      else if (opts.output === 'nft') process.stdout.write(tableText(nodePlan.nft));
      else process.stdout.write(renderPlanText(nodePlan));
    });
}
