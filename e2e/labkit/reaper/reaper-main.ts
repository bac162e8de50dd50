/**
 * The reaper process (see arm.ts): `reaper-main.js --owner PID:STARTTICKS JOB`. Prints `watching` on
 * stdout once it watches (and nothing on stdout after). Exits quietly on SIGTERM (disarmed); does its
 * job once the owner is gone, then exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseReaperArgs, REAPER_WATCHING } from './jobs.js';
import { isAlive } from './process-identity.js';

const POLL_MS = 250;

const { owner, job } = parseReaperArgs(process.argv.slice(2));
// What the job needs loads while we already watch, so arming does not wait for it.
const reaping = import('./reap.js');
const preload = job.kind === 'lab' ? import('../lab.js') : undefined;
for (const loading of [reaping, preload]) loading?.catch(() => undefined);
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.stdout.write(`${REAPER_WATCHING}\n`);
while (await isAlive(owner)) await sleep(POLL_MS);
// Disarming from here on would leave half a teardown behind.
process.removeAllListeners('SIGTERM');
process.on('SIGTERM', () => undefined);
const started = Date.now();
try {
  const what = await (await reaping).reap(job, owner);
  process.stderr.write(`reaper: owner ${owner.pid} gone; ${what} in ${Date.now() - started} ms\n`);
} catch (err) {
  process.stderr.write(`reaper: owner ${owner.pid} gone; ${job.kind} failed: ${String(err)}\n`);
  process.exitCode = 1;
}
