import type { Command } from 'commander';
import { readFile } from 'node:fs/promises';
import { EgressError, errorMessage } from '../../lib/errors.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { DEFAULT_CONFIG, resolveConfig, type AgentConfig } from '../../lib/planner/config.js';
import type { Announcer } from '../../lib/dataplane/announcer/index.js';
import { DEFAULT_TIMING } from '../../lib/dataplane/announcer/announcer-options.js';
import type { DiffLine } from '../../lib/dataplane/diff-line.js';
import { createLogger } from '../logger.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_STATUS_URL } from '../listen-address.js';
import { outputOption, writeStructured } from '../output.js';

async function readPlan(path: string): Promise<NodePlan> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new EgressError('EGW_ERR_INPUT', `${path}: cannot read (${errorMessage(err)})`, { cause: err });
  }
  let plan: unknown;
  try {
    plan = JSON.parse(text);
  } catch (err) {
    throw new EgressError('EGW_ERR_INPUT', `${path}: not JSON (write it with \`sluice plan -o json\`)`, { cause: err });
  }
  const p = plan as Partial<NodePlan>;
  if (!p || typeof p.node !== 'string' || !p.nft || !p.routing || !Array.isArray(p.eips) || !Array.isArray(p.sysctls)) {
    throw new EgressError('EGW_ERR_INPUT', `${path}: not a NodePlan (expected the output of \`sluice plan -o json\`)`);
  }
  return p as NodePlan;
}

/**
 * The drivers' settings for a plan: its nft table and tunnel device, so a plan compiled with a
 * non-default config is applied and diffed against the table and device it names.
 */
function configForPlan(plan: NodePlan): AgentConfig {
  return resolveConfig({ nftTable: plan.nft.name, vxlan: { device: plan.vxlan?.device ?? DEFAULT_CONFIG.vxlan.device } });
}

/**
 * This process exits right after applying, and closing the announcer cancels what is still
 * scheduled: wait for the whole takeover burst (one lost frame must not cost the takeover), not
 * only its first frame.
 */
async function finishBurst(announcer: Announcer): Promise<void> {
  const attempts = DEFAULT_TIMING.burstMs.length;
  const deadline = Date.now() + DEFAULT_TIMING.burstMs[attempts - 1]! + 5000;
  while (Date.now() < deadline && announcer.status().some((s) => s.framesSent + s.skipped + s.failures < attempts)) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await announcer.settled();
}

/** The plan the local agent is enforcing, from its status endpoint. */
async function agentPlan(url: string): Promise<NodePlan> {
  try {
    const res = await fetch(`${url}/plan`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).trim()}`);
    return (await res.json()) as NodePlan;
  } catch (err) {
    throw new EgressError('EGW_ERR_INPUT', `cannot read the agent's plan from ${url}/plan (${errorMessage(err)}); give --plan FILE instead`, { cause: err });
  }
}

export function registerDataplane(program: Command): void {
  program
    .command('apply')
    .description('apply a JSON NodePlan (from `sluice plan -o json`) to this host (debugging; the agent does this itself)')
    .requiredOption('--plan <file>', 'NodePlan JSON')
    .option('--no-announce', 'do not send gratuitous ARP / NA for the EIPs')
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'))
    .action(async (opts: { plan: string; announce: boolean; output: 'text' | 'json' | 'yaml' }) => {
      const plan = await readPlan(opts.plan);
      const log = createLogger({ destination: 2, level: 'warn' });
      const { openLocalDataplane } = await import('../local-dataplane.js');
      const local = openLocalDataplane(configForPlan(plan), log, { announce: opts.announce });
      try {
        const report = await local.dataplane.apply(plan);
        if (local.announcer) await finishBurst(local.announcer);
        if (opts.output !== 'text') writeStructured(opts.output, report);
        else {
          for (const [name, r] of Object.entries(report.subsystems)) {
            process.stdout.write(
              `${name.padEnd(10)} ${String(r.writes).padStart(5)} write(s)${r.errors.length ? `  ERRORS: ${r.errors.map((e) => e.message).join('; ')}` : ''}${r.skipped.length ? `  skipped: ${r.skipped.join('; ')}` : ''}\n`,
            );
          }
          process.stdout.write(`${report.ok ? 'applied' : 'FAILED'} in ${report.durationMs.toFixed(1)} ms, ${report.writes} kernel write(s)\n`);
        }
        if (!report.ok) process.exitCode = EXIT.error;
      } finally {
        await local.close();
      }
    });

  program
    .command('diff')
    .description("show what differs between a plan and this host's kernel (exit 1 when anything differs)")
    .option('--plan <file>', 'NodePlan JSON (default: the plan the local agent enforces)')
    .option('--agent <url>', "the local agent's status address (--status-address of the agent)", DEFAULT_STATUS_URL)
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'))
    .action(async (opts: { plan?: string; agent: string; output: 'text' | 'json' | 'yaml' }) => {
      const plan = opts.plan ? await readPlan(opts.plan) : await agentPlan(opts.agent);
      const log = createLogger({ destination: 2, level: 'warn' });
      const [{ openLocalDataplane }, { diffPlan }, { diffNft }] = await Promise.all([
        import('../local-dataplane.js'),
        import('../../lib/dataplane/diff-plan.js'),
        import('../../lib/dataplane/nft/nft-diff.js'),
      ]);
      const local = openLocalDataplane(configForPlan(plan), log);
      try {
        const observed = await local.dataplane.observe(plan);
        const lines: DiffLine[] = [...diffNft(plan.nft, await local.nft.observe()), ...diffPlan(plan, observed)];
        if (opts.output !== 'text') writeStructured(opts.output, lines);
        else process.stdout.write(lines.length ? `${lines.map((l) => l.text).join('\n')}\n` : 'kernel matches the plan\n');
        if (lines.length) process.exitCode = EXIT.invalid;
      } finally {
        await local.close();
      }
    });
}
