/**
 * The reaper process (see arm.ts): `reaper-main.js --owner PID:STARTTICKS JOB`. Exits quietly on
 * SIGTERM (disarmed); does its job once the owner is gone, then exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseReaperArgs } from './jobs.js';
import { isAlive } from './process-identity.js';
import { reap } from './reap.js';

const POLL_MS = 250;

const { owner, job } = parseReaperArgs(process.argv.slice(2));
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);
process.stderr.write(`reaper: watching owner ${owner.pid} for ${job.kind}\n`);
while (await isAlive(owner)) await sleep(POLL_MS);
// Disarming from here on would leave half a teardown behind.
process.removeAllListeners('SIGTERM');
process.on('SIGTERM', () => undefined);
const started = Date.now();
try {
  const what = await reap(job, owner);
  process.stderr.write(`reaper: owner ${owner.pid} gone; ${what} in ${Date.now() - started} ms\n`);
} catch (err) {
  process.stderr.write(`reaper: owner ${owner.pid} gone; ${job.kind} failed: ${String(err)}\n`);
  process.exitCode = 1;
}
