import type { Command } from 'commander';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { crossCheck } from '../../lib/planner/cross-check.js';
import { readStdin } from '../io.js';
import { EXIT } from '../exit-codes.js';
import { AGENT_FLAGS, addConfigFlags, agentConfigFromFlags } from '../config-flags.js';

export function registerValidate(program: Command): void {
  const command = program
    .command('validate')
    .description('check egress objects (and the gateways they name, when given) without a cluster')
    .requiredOption('-f, --file <path>', 'YAML/JSON file, folder of them, or - for stdin');
  addConfigFlags(command, AGENT_FLAGS).action(async (opts: { file: string; [config: string]: unknown }) => {
    const config = agentConfigFromFlags(opts);
    const docs = await loadDocuments(opts.file, opts.file === '-' ? await readStdin() : undefined);
    const { objects, problems } = parseSources(docs);
    const lines = problems.map((p) => p.line);
    const gatewaysGiven = objects.some((o) => o.kind === 'EgressGateway');
    if (gatewaysGiven) {
      for (const p of crossCheck(snapshotFromObjects(objects, config))) lines.push(`${opts.file}: ${p.object}: ${p.message} (${p.reason})`);
    }
    if (docs.length === 0) lines.push(`${opts.file}: no documents found`);
    if (lines.length > 0) {
      for (const line of lines) process.stdout.write(`${line}\n`);
      process.exitCode = EXIT.invalid;
      return;
    }
    process.stdout.write(`${objects.length} object(s) valid\n`);
  });
}
