import type { Command } from 'commander';
import { BUILD } from '../version.js';
import { outputOption, writeStructured } from '../output.js';

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the version and the git commit this build was made from')
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'))
    .action((opts: { output: 'text' | 'json' | 'yaml' }) => {
      const info = { version: BUILD.version, commit: BUILD.commit, nodejs: process.version };
      if (opts.output === 'text') process.stdout.write(`sluice ${info.version} (commit ${info.commit}, node ${info.nodejs})\n`);
      else writeStructured(opts.output, info);
    });
}
