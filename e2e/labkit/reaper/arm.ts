/**
 * Ties resources to the life of this process, whatever ends it (SIGKILL included): a reaper is a small
 * detached process, in its own session so no signal to our process group reaches it, that polls this
 * process's pid and start time and does its job once they no longer match. Polling /proc needs no
 * help from the dying process, is not fooled by a recycled pid, and survives the `ip netns exec` and
 * exec chains that PR_SET_PDEATHSIG does not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { reaperArgs, type ReaperJob } from './jobs.js';
import { identityOf, type ProcessIdentity } from './process-identity.js';

const REAPER_MAIN = fileURLToPath(new URL('./reaper-main.js', import.meta.url));

export interface Reaper {
  readonly owner: ProcessIdentity;
  /** Stands the reaper down (the job is done, or handed on, e.g. a lab the CLI leaves running). Idempotent. */
  disarm(): void;
}

let self: Promise<ProcessIdentity> | undefined;

/** This process as reapers watch it. */
export function ownIdentity(): Promise<ProcessIdentity> {
  self ??= identityOf(process.pid);
  return self;
}

/** Starts a reaper for `job`; resolves once it runs (it watches from then on). */
export async function armReaper(job: ReaperJob): Promise<Reaper> {
  const owner = await ownIdentity();
  const child = spawn(process.execPath, [REAPER_MAIN, ...reaperArgs(owner, job)], { detached: true, stdio: 'ignore' });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  child.unref();
  return { owner, disarm: () => standDown(child) };
}

// Our own child: node knows whether it has exited, so kill() never reaches a recycled pid.
function standDown(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
