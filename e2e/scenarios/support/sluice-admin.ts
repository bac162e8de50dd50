/** The sluice CLI as a cluster admin runs it: with the lab's kubeconfig, where kubectl runs. */
import { kubectlCommand } from '../../labkit/kubectl.js';
import type { Lab } from '../../labkit/lab.js';
import { run, type RunResult } from '../../labkit/run.js';
import { SLUICE_MAIN } from './sluice-cli.js';

/** `sluice ARGS…` against the lab's API server; its result whatever the exit code. */
export async function sluiceAdmin(lab: Lab, args: readonly string[], timeoutMs = 120_000): Promise<RunResult> {
  const cmd = kubectlCommand(await lab.state(), []);
  return run([process.execPath, SLUICE_MAIN, ...args], { netns: cmd.netns, env: { KUBECONFIG: cmd.env.KUBECONFIG! }, allowFailure: true, timeoutMs });
}
