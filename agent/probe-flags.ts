import type { Command } from 'commander';
import { EgressError } from '../lib/errors.js';

/** What the agent's UDP probes and the handoff take from the command line. */
export interface ProbeSettings {
  readonly port: number;
  readonly intervalMs: number;
  readonly misses: number;
  readonly holdDownMs: number;
  readonly handoffTimeoutMs: number;
  /** The valid lifetime of the EIPs on the NIC, renewed while the agent runs (0: forever). */
  readonly eipLifetimeSeconds: number;
}

export interface ProbeFlags {
  probePort: string;
  probeInterval: string;
  probeMisses: string;
  probeHoldDown: string;
  handoffTimeout: string;
  eipLifetime: string;
}

/** Defaults: a dead peer is noticed after 3 × 100 ms; see README "Gateway failover". */
export const DEFAULT_PROBES: ProbeSettings = { port: 7473, intervalMs: 100, misses: 3, holdDownMs: 5_000, handoffTimeoutMs: 2_000, eipLifetimeSeconds: 5 };

export function addProbeFlags(command: Command): Command {
  return command
    .option('--probe-port <port>', 'UDP port of the liveness probes between nodes (0: no probes, the API alone decides)', String(DEFAULT_PROBES.port))
    .option('--probe-interval <ms>', 'milliseconds between probes to each peer', String(DEFAULT_PROBES.intervalMs))
    .option('--probe-misses <n>', 'probes in a row without an answer before a peer counts as dead', String(DEFAULT_PROBES.misses))
    .option(
      '--probe-hold-down <seconds>',
      'how long a peer (or this node, after a fence or a failed apply) must be well before it carries egress IPs again',
      String(DEFAULT_PROBES.holdDownMs / 1000),
    )
    .option('--handoff-timeout <seconds>', 'how long a node that gives up egress IPs keeps them while no live peer holds them yet', String(DEFAULT_PROBES.handoffTimeoutMs / 1000))
    .option(
      '--eip-lifetime <seconds>',
      'the kernel removes egress IPs this long after the agent died (it renews them while it runs; 0: never, from 2)',
      String(DEFAULT_PROBES.eipLifetimeSeconds),
    );
}

function bounded(flag: string, text: string, min: number, max: number, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new EgressError('EGW_ERR_CONFIG', `--${flag}: "${text}" must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
  }
  return n;
}

/** The validated settings, or undefined with --probe-port 0. */
export function probeSettings(flags: ProbeFlags): ProbeSettings | undefined {
  const port = bounded('probe-port', flags.probePort, 0, 65_535, true);
  if (port === 0) return undefined;
  return {
    port,
    intervalMs: bounded('probe-interval', flags.probeInterval, 10, 10_000, true),
    misses: bounded('probe-misses', flags.probeMisses, 1, 100, true),
    holdDownMs: Math.round(bounded('probe-hold-down', flags.probeHoldDown, 0, 3_600, false) * 1000),
    handoffTimeoutMs: Math.round(bounded('handoff-timeout', flags.handoffTimeout, 0, 60, false) * 1000),
    eipLifetimeSeconds: eipLifetime(flags.eipLifetime),
  };
}

/** 0 (off) or 2 s and more: renewed every second, a lifetime of 1 s would lapse between renewals. */
function eipLifetime(text: string): number {
  const n = bounded('eip-lifetime', text, 0, 3_600, true);
  if (n === 1) throw new EgressError('EGW_ERR_CONFIG', '--eip-lifetime: "1" must be 0 or from 2 to 3600');
  return n;
}
