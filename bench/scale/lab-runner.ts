/**
 * Runs a bench/scale entry point inside the lab: the outer process makes the namespaces, runs
 * `ip netns exec HUB node SCRIPT --inner --prefix P ARGS`, and removes every namespace afterwards,
 * also when the run fails or is interrupted, and (its reaper) when this process is killed.
 */
import { spawn } from 'node:child_process';
import { armReaper } from '../../e2e/labkit/reaper/arm.js';
import { createLab, destroyLab, newPrefix } from './netns-lab.js';

export async function runInLab(script: string, args: readonly string[], agentNodes: readonly { index: number; ip: string }[]): Promise<number> {
  const prefix = newPrefix();
  const reaper = await armReaper({ kind: 'netns', prefix });
  let child: ReturnType<typeof spawn> | undefined;
  const forward = (sig: NodeJS.Signals) => child?.kill(sig);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  try {
    const lab = await createLab(prefix, agentNodes);
    child = spawn('ip', ['netns', 'exec', lab.hub, process.execPath, script, '--inner', '--prefix', prefix, ...args], { stdio: 'inherit' });
    return await new Promise<number>((resolve) => child!.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
    await destroyLab(prefix);
    reaper.disarm();
  }
}
