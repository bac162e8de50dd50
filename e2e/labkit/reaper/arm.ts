/**
 * Ties resources to the life of this process, whatever ends it (SIGKILL included): a reaper is a small
 * detached process, in its own session so no signal to our process group reaches it, that polls this
 * process's pid and start time and does its job once they no longer match. Polling /proc needs no
 * help from the dying process, is not fooled by a recycled pid, and survives the `ip netns exec` and
 * exec chains that PR_SET_PDEATHSIG does not.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stretchedByLoad } from '../load.js';
import { REAPER_WATCHING, reaperArgs, type ReaperJob } from './jobs.js';
import { identityOf, type ProcessIdentity } from './process-identity.js';

const REAPER_MAIN = fileURLToPath(new URL('./reaper-main.js', import.meta.url));
const WATCHING_TIMEOUT_MS = 10_000;

export interface Reaper {
  readonly owner: ProcessIdentity;
  /** Stands the reaper down (the job is done, or handed on, e.g. a lab the CLI leaves running). Idempotent. */
  disarm(): void;
}

let self: Promise<ProcessIdentity> | undefined;

/** This process as reapers watch it. */
function ownIdentity(): Promise<ProcessIdentity> {
  self ??= identityOf(process.pid);
  return self;
}

/** Starts a reaper for `job`; resolves once it watches this process. */
export async function armReaper(job: ReaperJob): Promise<Reaper> {
  const owner = await ownIdentity();
  const child = spawn(process.execPath, [REAPER_MAIN, ...reaperArgs(owner, job)], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    await watching(child);
  } catch (err) {
    standDown(child);
    throw err;
  } finally {
    child.stdout?.destroy();
  }
  child.unref();
  return { owner, disarm: () => standDown(child) };
}

function watching(child: ChildProcess): Promise<void> {
  const timeoutMs = stretchedByLoad(WATCHING_TIMEOUT_MS);
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reaper: not watching after ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    createInterface({ input: child.stdout! }).once('line', (line) => done(line === REAPER_WATCHING ? undefined : new Error(`reaper said ${JSON.stringify(line)}`)));
    child.once('error', done);
    child.once('exit', (code, signal) => done(new Error(`reaper exited (${signal ?? code}) before watching`)));
  });
}

// Our own child: node knows whether it has exited, so kill() never reaches a recycled pid.
function standDown(child: ChildProcess): void {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}
