import type { Command } from 'commander';
import { stringify } from 'yaml';
import { loadDocuments } from '../../lib/input/load-documents.js';
import { importSpidernet } from '../../lib/api/import-spidernet.js';
import { readStdin } from '../io.js';
import { EXIT } from '../exit-codes.js';

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('convert spidernet EgressGateway YAML (egressgateway.spidernet.io) to sluice objects on stdout')
    .requiredOption('-f, --file <path>', 'YAML file, folder of them, or - for stdin')
    .action(async (opts: { file: string }) => {
      const docs = await loadDocuments(opts.file, opts.file === '-' ? await readStdin() : undefined);
      const out: string[] = [];
      let converted = 0;
      for (const d of docs) {
        if (d.syntaxError) {
          process.stderr.write(`${d.file}:${d.index}: not valid YAML: ${d.syntaxError}\n`);
          process.exitCode = EXIT.invalid;
          continue;
        }
        const r = importSpidernet(d.body);
        for (const note of r.notes) process.stderr.write(`${d.file}:${d.index}: ${note}\n`);
        if (r.converted) converted++;
        out.push(stringify(r.doc, { lineWidth: 0 }));
      }
      process.stdout.write(out.join('---\n'));
      process.stderr.write(`converted ${converted} of ${docs.length} document(s)\n`);
    });
}
