import type { Command } from 'commander';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { parseSources } from '../../lib/input/parse-sources.js';
import { importSpidernet, type ImportedDocument } from '../../lib/api/import-spidernet.js';
import { snapshotFromObjects } from '../../lib/planner/from-objects.js';
import { crossCheck } from '../../lib/planner/cross-check.js';
import { DEFAULT_CONFIG } from '../../lib/planner/config.js';
import { readStdin } from '../io.js';
import { EXIT } from '../exit-codes.js';
import { toYaml } from '../output.js';

/**
 * Marks as failed every converted object that `sluice validate` would reject, alone or across
 * objects; repeated because leaving a gateway out can fail the policies that name it.
 */
function validateConverted(docs: readonly ImportedDocument[]): ImportedDocument[] {
  let current = [...docs];
  for (let round = 0; round <= docs.length; round++) {
    const failures = new Map<ImportedDocument, string[]>();
    const fail = (d: ImportedDocument, why: string) => failures.set(d, [...(failures.get(d) ?? []), why]);
    const objects = current.flatMap((d) => {
      if (!d.body) return [];
      const parsed = parseSources([{ file: d.where, index: 0, body: d.body }]);
      for (const p of parsed.problems) fail(d, p.line.slice(`${p.where}: ${p.object ? `${p.object}: ` : ''}`.length));
      return parsed.objects;
    });
    if (objects.some((o) => o.kind === 'EgressGateway')) {
      for (const p of crossCheck(snapshotFromObjects(objects, DEFAULT_CONFIG))) {
        const d = current.find((x) => x.body && x.object === p.object);
        if (d) fail(d, `${p.message} (${p.reason})`);
      }
    }
    if (failures.size === 0) break;
    current = current.map((d) => {
      const why = failures.get(d);
      return why ? { ...d, outcome: 'failed' as const, body: undefined, notes: [...d.notes, ...why.map((w) => `does not validate: ${w}`)] } : d;
    });
  }
  return current;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert a spidernet EgressGateway export (kubectl get … -o yaml) to sluice objects on stdout; exit 1 when something could not be converted')
    .requiredOption('-f, --file <path>', 'YAML file, folder of them, or - for stdin')
    .action(async (opts: { file: string }) => {
      const loaded = await loadDocuments(opts.file, opts.file === '-' ? await readStdin() : undefined);
      const syntax = loaded.filter((d) => d.syntaxError);
      for (const d of syntax) process.stderr.write(`${d.file}:${d.index}: not valid YAML: ${d.syntaxError}\n`);
      const docs = validateConverted(importSpidernet(loaded.filter((d) => !d.syntaxError).map((d) => ({ where: `${d.file}:${d.index}`, body: d.body }))));

      const out = docs.flatMap((d) => (d.body ? [toYaml(d.body)] : []));
      process.stdout.write(out.join('---\n'));
      for (const d of docs) {
        const tag = d.outcome === 'failed' ? 'NOT CONVERTED: ' : '';
        for (const note of d.notes) process.stderr.write(`${d.where}: ${d.object}: ${tag}${note}\n`);
      }
      const count = (o: ImportedDocument['outcome']) => docs.filter((d) => d.outcome === o).length;
      const failed = count('failed') + syntax.length;
      process.stderr.write(
        `sluice import: ${count('converted')} converted, ${count('passed')} passed through, ${count('dropped')} left out (written by the controller), ${failed} could not be converted${failed ? ' (named above; fix them and import again)' : ''}\n`,
      );
      if (failed > 0) process.exitCode = EXIT.invalid;
    });
}
