import type { Command } from 'commander';
import { EgressError, errorMessage } from '../../lib/errors.js';
import { DEFAULT_STATE_DIR } from '../../lib/dataplane/sysctl-journal.js';
import type { CleanupReport } from '../../lib/dataplane/cleanup.js';
import { createLogger } from '../logger.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_STATUS_URL } from '../listen-address.js';
import { outputOption, writeStructured } from '../output.js';
import { addConfigFlags, configFromFlags, OWNED_STATE_FLAGS } from '../config-flags.js';

interface CleanupFlags {
  dryRun?: boolean;
  stateDir: string;
  sysctlRoot: string;
  restoreForwarding?: boolean;
  agent: string;
  force?: boolean;
  output: 'text' | 'json' | 'yaml';
  [config: string]: unknown;
}

function renderCleanup(r: CleanupReport): string {
  const lines = r.actions.map((a) => {
    const state = r.dryRun ? 'would' : a.error ? 'FAILED' : 'done';
    return `${state.padEnd(6)}  ${a.subsystem.padEnd(7)}  ${a.text}${a.error ? `: ${a.error}` : ''}`;
  });
  for (const k of r.kept) lines.push(`kept    ${' '.repeat(7)}  ${k}`);
  if (r.actions.length === 0) lines.push("nothing of sluice's is left on this node");
  else if (!r.dryRun) lines.push(r.ok ? 'sluice is gone from this node' : "some of sluice's state could not be removed (see FAILED above); run sluice cleanup again");
  return `${lines.join('\n')}\n`;
}

/** Whether an agent answers on this node's status address: one that runs would put everything back. */
async function agentAnswers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/status`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

export function registerCleanup(program: Command): void {
  const command = program
    .command('cleanup')
    .description('remove everything sluice put on this node (nft table, rules and routes, the tunnel, EIPs; sysctls restored); run it once the agent is gone')
    .option('--dry-run', 'list what would be removed or restored; change nothing')
    .option('--state-dir <path>', "the agent's --state-dir, where its sysctl journal is", DEFAULT_STATE_DIR)
    .option('--sysctl-root <path>', "where /proc/sys is writable (the agent's --sysctl-root)", '/proc/sys')
    .option('--restore-forwarding', 'also turn IP forwarding back off where sluice turned it on (the pod network usually needs it)')
    .option('--agent <url>', 'where a running agent would answer (its --status-address): cleanup refuses while one does', DEFAULT_STATUS_URL)
    .option('--force', 'clean up even though an agent answers (it will put its state back)')
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'));
  addConfigFlags(command, OWNED_STATE_FLAGS).action(async (flags: CleanupFlags) => {
    const config = configFromFlags(flags, OWNED_STATE_FLAGS);
    const running = await agentAnswers(flags.agent);
    if (running && !flags.dryRun && !flags.force) {
      throw new EgressError(
        'EGW_ERR_INPUT',
        `an agent answers at ${flags.agent} and would put everything back: remove the DaemonSet first (kubectl delete -k manifests/), or give --force`,
      );
    }
    if (running) process.stderr.write(`sluice: an agent answers at ${flags.agent}; it will put back what is removed\n`);
    const log = createLogger({ destination: 2, level: 'warn' });
    const [{ cleanupNode }, { openNftDriver }] = await Promise.all([import('../../lib/dataplane/cleanup.js'), import('../../lib/dataplane/nft/open-backend.js')]);
    const nft = openNftDriver({ table: config.nftTable, log: log.child({ subsystem: 'nft' }) });
    let report: CleanupReport;
    try {
      report = await cleanupNode(
        { config, stateDir: flags.stateDir, sysctlRoot: flags.sysctlRoot },
        { nft, ...(flags.dryRun ? { dryRun: true } : {}), ...(flags.restoreForwarding ? { restoreForwarding: true } : {}) },
      );
    } catch (err) {
      throw new EgressError('EGW_ERR_NETLINK', `reading this node's state: ${errorMessage(err)}`, { cause: err });
    } finally {
      nft.close();
    }
    if (flags.output === 'text') process.stdout.write(renderCleanup(report));
    else writeStructured(flags.output, report);
    if (!report.ok) process.exitCode = EXIT.error;
  });
}
