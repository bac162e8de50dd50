#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerPlan } from './commands/plan.js';
import { registerValidate } from './commands/validate.js';
import { registerImport } from './commands/import.js';
import { registerExplain } from './commands/explain.js';
import { registerDataplane } from './commands/dataplane.js';
import { registerAgent } from './commands/agent.js';
import { registerController } from './commands/controller.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerStatus } from './commands/status.js';
import { registerVersion } from './commands/version.js';
import { BUILD } from './version.js';
import { EXIT } from './exit-codes.js';
import { errorMessage, isEgressError } from '../lib/errors.js';

const program = new Command('sluice')
  .description('Kubernetes egress gateway: selected pods leave the cluster from a fixed, highly available egress IP')
  .version(BUILD.version)
  .exitOverride()
  .showHelpAfterError();

registerPlan(program);
registerValidate(program);
registerImport(program);
registerExplain(program);
registerDataplane(program);
registerAgent(program);
registerController(program);
registerCleanup(program);
registerStatus(program);
registerVersion(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.error;
  } else {
    const code = isEgressError(err) ? `${err.code}: ` : '';
    process.stderr.write(`sluice: ${code}${errorMessage(err)}\n`);
    process.exitCode = EXIT.error;
  }
}
