/** kubectl against a lab's API server: run on the control host, with the lab's kubeconfig and a cache of its own. */
import { join } from 'node:path';
import type { LabState } from './state.js';

/** The real kubectl; SLUICE_LAB_KUBECTL points elsewhere (e.g. another version). */
export const KUBECTL = process.env['SLUICE_LAB_KUBECTL'] || '/usr/bin/kubectl';

export interface KubectlCommand {
  netns: string;
  argv: string[];
  env: Record<string, string>;
}

export function kubectlCommand(s: LabState, args: readonly string[]): KubectlCommand {
  if (s.kubeconfig === null) {
    throw new Error(`lab ${s.name} has no API server (plugins: ${s.plugins.join(', ') || 'none'}); bring it up with the cluster plugin`);
  }
  return {
    netns: s.netns.control,
    argv: [KUBECTL, ...args],
    // A cache per lab: kubectl's discovery cache is keyed by host:port, which every lab shares.
    env: { KUBECONFIG: s.kubeconfig, KUBECACHEDIR: join(s.stateDir, 'kube-cache') },
  };
}
