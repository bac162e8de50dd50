import type { Command } from 'commander';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { explain, type Explanation } from '../../lib/planner/explain.js';
import { explainFirewall, parseDestination, parsePortQuery, type FirewallExplanation, type LearnedAddress } from '../../lib/planner/explain-firewall.js';
import { createLogger } from '../logger.js';
import { outputOption, writeStructured } from '../output.js';
import { AGENT_FLAGS, addConfigFlags, agentConfigFromFlags } from '../config-flags.js';

type FullExplanation = Explanation & { readonly firewall?: FirewallExplanation };

function renderExplanation(e: FullExplanation): string {
  const lines = [e.summary, '', `pod ${e.pod} on node ${e.node} (${e.podIps.join(', ') || 'no IP'})`];
  if (e.verdicts.length) {
    lines.push('policies, in the order they are tried:');
    for (const v of e.verdicts) lines.push(`  ${v.matches ? '→' : ' '} ${v.policy}: ${v.why}`);
  }
  if (e.firewall) {
    lines.push('', `firewall: ${e.firewall.summary}`);
    if (e.firewall.rules.length) lines.push('firewall rules, in the order they are tried:');
    for (const r of e.firewall.rules) {
      const mark = r.match === 'yes' ? '→' : r.match === 'unknown' ? '?' : ' ';
      lines.push(`  ${mark} ${r.kind} ${r.firewall} ${r.rule === 'default' ? 'default' : `#${r.rule}`}: ${r.why}`);
      for (const l of r.learned ?? [])
        lines.push(`      ${l.address} in ${l.set}: ${l.comment ?? 'no comment'}${l.expiresSeconds !== undefined ? `, expires in ${l.expiresSeconds} s` : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The elements of this node's learned sets (flags timeout), as the kernel holds them now. */
async function readLearned(table: string): Promise<LearnedAddress[]> {
  const { openNftDriver } = await import('../../lib/dataplane/nft/open-backend.js');
  const nft = openNftDriver({ table, log: createLogger({ destination: 2, level: 'warn' }) });
  const observed = await nft.observe();
  if (!observed.present) process.stderr.write(`warning: this node has no table inet ${table}: nothing learned here\n`);
  return observed.sets
    .filter((s) => s.flags.includes('timeout'))
    .flatMap((s) =>
      (s.timed ?? []).map((t) => ({
        set: s.name,
        address: t.element,
        ...(t.expiresSeconds !== undefined ? { expiresSeconds: t.expiresSeconds } : {}),
        ...(t.comment !== undefined ? { comment: t.comment } : {}),
      })),
    );
}

interface ExplainFlags {
  cluster: string;
  pod: string;
  dest?: string;
  port?: string;
  learned: boolean;
  output: 'text' | 'json' | 'yaml';
  [config: string]: unknown;
}

export function registerExplain(program: Command): void {
  const command = program
    .command('explain')
    .description('explain why a pod leaves the cluster the way it does, and which firewall rule decides a destination')
    .requiredOption('--cluster <path>', 'YAML/JSON file or folder of them')
    .requiredOption('--pod <namespace/name>', 'the pod')
    .option('--dest <ip|name>', 'a destination address or DNS name (default: any external IPv4 destination, no firewall verdict)')
    .option('--port <protocol/port>', "the connection's protocol and port for firewall rules with ports, e.g. tcp/443")
    .option('--learned', "read the addresses learned from DNS answers from this node's kernel (run it on the pod's node)", false)
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'));
  addConfigFlags(command, AGENT_FLAGS).action(async (opts: ExplainFlags) => {
    const config = agentConfigFromFlags(opts);
    // Bad input is refused before anything is read.
    const dest = opts.dest === undefined ? undefined : parseDestination(opts.dest);
    const port = opts.port === undefined ? undefined : parsePortQuery(opts.port);
    const { objects, problems } = parseSources(await loadDocuments(opts.cluster));
    for (const p of problems) process.stderr.write(`warning: skipped ${p.line}\n`);
    const snapshot = snapshotFromObjects(objects, config);
    const e: FullExplanation = explain(snapshot, opts.pod, dest && 'ip' in dest ? dest.ip : undefined);
    const learned = opts.learned ? await readLearned(config.nftTable) : undefined;
    const full: FullExplanation = opts.dest === undefined ? e : { ...e, destination: opts.dest, firewall: explainFirewall(snapshot, opts.pod, opts.dest, port, learned) };
    if (opts.output !== 'text') writeStructured(opts.output, full);
    else process.stdout.write(renderExplanation(full));
  });
}
