import type { Command } from 'commander';
import { EgressError, errorMessage } from '../../lib/errors.js';
import { renderPlanText } from '../../lib/planner/plan-text.js';
import type { AgentStatus } from '../node-agent/agent-state.js';
import { EXIT } from '../exit-codes.js';
import { DEFAULT_STATUS_URL } from '../listen-address.js';
import { outputOption, writeStructured } from '../output.js';

export function renderStatus(s: AgentStatus): string {
  const lines = [
    `node ${s.node}  agent ${s.version} (${s.commit ?? 'unknown'})  ${s.ready ? 'ready' : 'NOT READY'}  ${s.synced ? 'caches synced' : 'caches syncing'}  ${s.leader ? 'controller (lease holder)' : 'not the controller'}`,
    `parent interface ${s.parentInterface}`,
  ];
  if (s.lastApply) {
    lines.push(`last apply ${s.lastApply.at}: ${s.lastApply.ok ? 'ok' : 'FAILED'}, ${s.lastApply.writes} kernel write(s), ${s.lastApply.durationMs} ms`);
    for (const e of s.lastApply.errors) lines.push(`  error: ${e}`);
  } else lines.push('no apply yet');
  if (s.lastError) lines.push(`last error: ${s.lastError}`);
  if (s.announcements.length) {
    lines.push('announcements:');
    for (const a of s.announcements) lines.push(`  ${a.ip} on ${a.ifname}: ${a.framesSent} frame(s) sent${a.lastError ? `, last error: ${a.lastError}` : ''}`);
  }
  lines.push('');
  return `${lines.join('\n')}\n${s.plan ? renderPlanText(s.plan) : ''}`;
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show what the agent on this node is doing: readiness, leadership, last apply, its plan')
    .option('--agent <url>', 'the local agent\'s status address (--status-address of the agent)', DEFAULT_STATUS_URL)
    .addOption(outputOption(['text', 'json', 'yaml'], 'text'))
    .action(async (opts: { agent: string; output: 'text' | 'json' | 'yaml' }) => {
      let status: AgentStatus;
      try {
        const res = await fetch(`${opts.agent}/status`, { signal: AbortSignal.timeout(5000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        status = (await res.json()) as AgentStatus;
      } catch (err) {
        throw new EgressError('EGW_ERR_INPUT', `no agent answers at ${opts.agent}/status (${errorMessage(err)})`, { cause: err });
      }
      if (opts.output === 'text') process.stdout.write(renderStatus(status));
      else writeStructured(opts.output, status);
      if (!status.ready) process.exitCode = EXIT.invalid;
    });
}
