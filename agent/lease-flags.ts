/** The API server and controller Lease flags that `sluice controller` and `sluice agent --controller` share. */
import type { Command } from 'commander';
import { EgressError } from '../lib/errors.js';

export interface LeaseFlags {
  kubeconfig?: string;
  leaseNamespace?: string;
  leaseDuration: string;
}

export function addKubeFlags(command: Command): Command {
  return command
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--lease-namespace <ns>', "namespace of the controller Lease `sluice-controller` (default: the pod's namespace)")
    .option('--lease-duration <seconds>', 'controller Lease duration; renewals every third of it', '15');
}

/** The Lease duration in milliseconds, checked (2-300 s). */
export function leaseDurationMs(flags: LeaseFlags): number {
  const seconds = Number(flags.leaseDuration);
  if (!Number.isInteger(seconds) || seconds < 2 || seconds > 300) throw new EgressError('EGW_ERR_CONFIG', '--lease-duration must be 2-300 seconds');
  return seconds * 1000;
}

/** Renewal period and deadline as client-go's defaults relate them (2 s / 10 s / 15 s): a third, and two thirds. */
export function leaseTiming(durationMs: number): { durationMs: number; renewIntervalMs: number; renewDeadlineMs: number } {
  return { durationMs, renewIntervalMs: Math.max(500, Math.floor(durationMs / 3)), renewDeadlineMs: Math.round((durationMs * 2) / 3) };
}
