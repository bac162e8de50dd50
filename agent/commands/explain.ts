import type { Command } from 'commander';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import { explain, type Explanation } from '../../lib/planner/explain.js';
import { outputOption, writeStructured } from '../output.js';

export function renderExplanation(e: Explanation): string {
  const lines = [e.summary, '', `pod ${e.pod} on node ${e.node} (${e.podIps.join(', ') || 'no IP'})`];
  if (e.verdicts.length) {
    lines.push('policies, in the order they are tried:');
    for (const v of e.verdicts) lines.push(`  ${v.matches ? '→' : ' '} ${v.policy}: ${v.why}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerExplain(program: Command): void {
  program
    .command('explain')
    .description('explain why a pod leaves the cluster the way it does')
    .requiredOption('--cluster <path>', 'YAML/JSON file or folder of them')
    .requiredOption('--pod <namespace/name>', 'the pod')
    .option('--dest <ip>', 'a destination address (default: any external IPv4 destination)')
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'))
    .action(async (opts: { cluster: string; pod: string; dest?: string; output: 'text' | 'json' | 'yaml' }) => {
      const { objects, problems } = parseSources(await loadDocuments(opts.cluster));
      for (const p of problems) process.stderr.write(`warning: skipped ${p.line}\n`);
      const e = explain(snapshotFromObjects(objects, DEFAULT_CONFIG), opts.pod, opts.dest);
      if (opts.output !== 'text') writeStructured(opts.output, e);
      else process.stdout.write(renderExplanation(e));
    });
}
