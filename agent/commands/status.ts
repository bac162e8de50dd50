import type { Command } from 'commander';
import { EgressError, errorMessage } from '../../lib/errors.js';
import { renderPlanText } from '../../lib/planner/plan-text.js';
import type { AgentStatus, LivenessStatus, PeerStatus } from '../node-agent/agent-state.js';
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
  if (s.liveness) lines.push(...renderPeers(s.liveness));
  lines.push('');
  return `${lines.join('\n')}\n${s.plan ? renderPlanText(s.plan) : ''}`;
}

/** One word for what the probes say, the worst first: DEAD, then unhealthy, draining, alive. */
function peerState(p: PeerStatus): string {
  const words = [p.alive ? (p.heard ? 'alive' : 'alive (vouched for by a peer)') : 'DEAD'];
  if (!p.healthy) words.push('UNHEALTHY');
  if (p.draining) words.push('draining');
  return words.join(', ');
}

function lastAnswer(p: PeerStatus): string {
  if (p.sinceHeardMs === undefined) return 'never';
  return p.sinceHeardMs < 1000 ? `${p.sinceHeardMs} ms ago` : `${(p.sinceHeardMs / 1000).toFixed(1)} s ago`;
}

function holdsText(p: PeerStatus): string {
  const list = p.holds.join(', ') || '-';
  return p.truncated ? `${list} (list cut short)` : list;
}

/** The peers table of `sluice status`: one line per peer, columns padded to the widest value. */
export function renderPeers(l: LivenessStatus): string[] {
  const head = `peers (probes)${l.isolated ? ': ISOLATED, no peer answers' : ''}:`;
  if (l.peers.length === 0) return [head, '  none'];
  const rows = [
    ['NODE', 'ADDRESS', 'STATE', 'MISSES', 'LAST ANSWER', 'HOLDS'],
    ...l.peers.map((p) => [p.node, p.address, peerState(p), String(p.misses), lastAnswer(p), holdsText(p)]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return [head, ...rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')}`)];
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show what the agent on this node is doing: readiness, leadership, last apply, its plan')
    .option('--agent <url>', "the local agent's status address (--status-address of the agent)", DEFAULT_STATUS_URL)
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
