/**
 * Reapers: a lab, a process group, namespaces die with the process that started them, whatever ends
 * that process. The group and guard cases need no root; the lab case builds a real lab in a child and
 * SIGKILLs it.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Lab } from '../lab.js';
import { labPrefix } from '../names.js';
import { addNetns, listNetns, netnsPids } from '../netns.js';
import { removeNetns } from '../teardown.js';
import { labDir, loadState } from '../state-store.js';
import { eventually, needsRoot, tempLabBase } from '../test-support.js';
import { parseReaperArgs, REAPER_WATCHING, reaperArgs, type ReaperJob } from './jobs.js';
import { identityOf, isAlive, type ProcessIdentity } from './process-identity.js';
import { reap } from './reap.js';

const REAPER_MAIN = fileURLToPath(new URL('./reaper-main.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./lab-owner-fixture.js', import.meta.url));
/** Functional bound only (the machine may be loaded); the figure goes to the test's diagnostics. */
const GONE_WITHIN_MS = 20_000;

describe('reaper arguments', () => {
  const owner = { pid: 42, startTicks: '1234' };
  const jobs: ReaperJob[] = [
    { kind: 'lab', name: 'demo', baseDir: '/run/sluice-lab' },
    { kind: 'netns', prefix: 'sl1a2b-' },
    { kind: 'group', leader: { pid: 7, startTicks: '99' } },
  ];
  for (const job of jobs) {
    test(`${job.kind} job survives the command line`, () => {
      assert.deepEqual(parseReaperArgs(reaperArgs(owner, job)), { owner, job });
    });
  }

  test('rejects a missing owner, two jobs, a loose prefix', () => {
    assert.throws(() => parseReaperArgs(['--netns-prefix', 'sl1a2b-']), /--owner/);
    assert.throws(() => parseReaperArgs(['--owner', '42:1', '--netns-prefix', 'sl1a2b-', '--group', '7:9']), /exactly one/);
    assert.throws(() => parseReaperArgs(['--owner', '42:1', '--lab', 'demo']), /exactly one/);
    assert.throws(() => parseReaperArgs(['--owner', '42:1', '--netns-prefix', 'sl']), /too loose/);
    assert.throws(() => parseReaperArgs(['--owner', '42', '--netns-prefix', 'sl1a2b-']), /PID:STARTTICKS/);
  });
});

/** A stand-in owner we can kill, and a detached process group with a forked child, as a traffic generator is. */
async function ownerAndGroup(): Promise<{ owner: ChildProcess; ownerId: ProcessIdentity; group: ChildProcess; groupId: ProcessIdentity }> {
  const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
  const group = spawn('sh', ['-c', 'sleep 600 & sleep 600'], { stdio: 'ignore', detached: true });
  await Promise.all([once(owner, 'spawn'), once(group, 'spawn')]);
  return { owner, ownerId: await identityOf(owner.pid!), group, groupId: await identityOf(group.pid!) };
}

function startReaper(owner: ProcessIdentity, job: ReaperJob): ChildProcess {
  return spawn(process.execPath, [REAPER_MAIN, ...reaperArgs(owner, job)], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
}

/** Pids whose process group is `pgid` (the leader included). */
async function groupMembers(pgid: number): Promise<number[]> {
  const members: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] !== 'Z' && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

describe('process group reaper', () => {
  test('kills the whole group once the owner is SIGKILLed', { timeout: 60_000 }, async (t) => {
    const { owner, ownerId, group, groupId } = await ownerAndGroup();
    const reaper = startReaper(ownerId, { kind: 'group', leader: groupId });
    const reaperExit = once(reaper, 'exit');
    try {
      await eventually(async () => assert.equal((await groupMembers(groupId.pid)).length, 3, 'sh and its two sleeps'), 5_000);
      owner.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(async () => assert.deepEqual(await groupMembers(groupId.pid), [], 'group members left'), GONE_WITHIN_MS);
      t.diagnostic(`group gone ${Date.now() - killedAt} ms after its owner's SIGKILL`);
      const [code] = await reaperExit;
      assert.equal(code, 0, 'the reaper exits once done');
    } finally {
      reaper.kill('SIGKILL');
      try {
        process.kill(-group.pid!, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });

  test('a disarmed reaper leaves the group alone', { timeout: 60_000 }, async () => {
    const { owner, ownerId, group, groupId } = await ownerAndGroup();
    const reaper = startReaper(ownerId, { kind: 'group', leader: groupId });
    try {
      const [line] = (await once(createInterface({ input: reaper.stdout! }), 'line')) as [string];
      assert.equal(line, REAPER_WATCHING);
      reaper.kill('SIGTERM');
      const [code] = await once(reaper, 'exit');
      assert.equal(code, 0, 'the reaper stands down on SIGTERM');
      owner.kill('SIGKILL');
      await once(owner, 'exit');
      assert.equal(await isAlive(groupId), true, 'the group leader was killed');
    } finally {
      owner.kill('SIGKILL');
      process.kill(-group.pid!, 'SIGKILL');
    }
  });
});

describe('netns reaper', { skip: needsRoot }, () => {
  test('namespaces with the prefix, and what runs in them, go with the owner', { timeout: 60_000 }, async (t) => {
    const prefix = `slrp${randomBytes(2).toString('hex')}-`;
    const owner = spawn('sleep', ['600'], { stdio: 'ignore' });
    await once(owner, 'spawn');
    const names = [`${prefix}a`, `${prefix}b`];
    await addNetns(names);
    const inside = spawn('ip', ['netns', 'exec', names[1]!, 'sh', '-c', 'sleep 600 & sleep 600'], { stdio: 'ignore', detached: true });
    await once(inside, 'spawn');
    const reaper = startReaper(await identityOf(owner.pid!), { kind: 'netns', prefix });
    try {
      await eventually(async () => assert.equal((await netnsPids(names[1]!)).length, 3), 5_000);
      owner.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(async () => assert.deepEqual(await listNetns(prefix), [], 'namespaces left'), GONE_WITHIN_MS);
      await eventually(async () => assert.deepEqual(await groupMembers(inside.pid!), [], 'processes left'), GONE_WITHIN_MS);
      t.diagnostic(`namespaces and processes gone ${Date.now() - killedAt} ms after the owner's SIGKILL`);
    } finally {
      owner.kill('SIGKILL');
      reaper.kill('SIGKILL');
      await removeNetns(await listNetns(prefix), { hard: true });
    }
  });
});

describe('lab reaper guard', () => {
  test('does nothing to a lab another process owns now, or one without state', async () => {
    const base = await mkdtemp(join(tmpdir(), 'sluice-reaper-'));
    try {
      const dir = join(base, 'taken');
      await mkdir(dir);
      await writeFile(join(dir, 'state.json'), JSON.stringify({ name: 'taken', owner: { pid: 1, startTicks: '0' } }));
      const me = await identityOf(process.pid);
      assert.match(await reap({ kind: 'lab', name: 'taken', baseDir: base }, me), /owned by another process/);
      assert.ok(existsSync(join(dir, 'state.json')), 'state removed');
      assert.match(await reap({ kind: 'lab', name: 'never-built', baseDir: base }, me), /no state/);
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  });
});

/** Every live process of the lab: its recorded daemons and whatever runs in its namespaces. */
async function labProcesses(name: string, baseDir: string): Promise<ProcessIdentity[]> {
  const state = await loadState(labDir(name, baseDir));
  const recorded = (state?.daemons ?? []).flatMap((d) => (d.pid !== null && d.startTicks !== null ? [{ pid: d.pid, startTicks: d.startTicks }] : []));
  const inNetns = (await Promise.all((await listNetns(labPrefix(name))).map(netnsPids))).flat();
  const identities = await Promise.all(inNetns.map((pid) => identityOf(pid).catch(() => undefined)));
  return [...recorded, ...identities.filter((p): p is ProcessIdentity => p !== undefined)];
}

async function stillAlive(ps: readonly ProcessIdentity[]): Promise<ProcessIdentity[]> {
  const alive = await Promise.all(ps.map(isAlive));
  return ps.filter((_, i) => alive[i]);
}

describe('lab reaper', { skip: needsRoot }, () => {
  test('a lab dies with the process that built it, SIGKILL included', { timeout: 180_000 }, async (t) => {
    const baseDir = await tempLabBase();
    const name = `reaper-${process.pid}`;
    const owner = spawn(process.execPath, [FIXTURE, name, baseDir], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const lines = createInterface({ input: owner.stdout! });
      const [line] = (await Promise.race([once(lines, 'line'), once(owner, 'exit').then(([code]) => Promise.reject(new Error(`the lab owner exited (${code})`)))])) as [string];
      assert.equal(line, 'up');
      const state = await loadState(labDir(name, baseDir));
      assert.ok(state, 'no lab state');
      const roles = state.daemons.map((d) => d.role);
      for (const role of ['echo', 'apiserver', 'kubelet', 'forking-sleeper']) assert.ok(roles.includes(role), `no ${role} daemon (have ${roles.join(', ')})`);
      const before = await labProcesses(name, baseDir);
      assert.ok(before.length > roles.length, `the forked child runs too (${before.length} processes, ${roles.length} daemons)`);

      owner.kill('SIGKILL');
      const killedAt = Date.now();
      await eventually(async () => {
        assert.deepEqual(await stillAlive(before), [], 'processes of the lab still running');
        assert.deepEqual(await listNetns(labPrefix(name)), [], 'namespaces left');
        assert.ok(!existsSync(labDir(name, baseDir)), 'state dir left');
      }, GONE_WITHIN_MS);
      t.diagnostic(`lab gone ${Date.now() - killedAt} ms after its owner's SIGKILL (${before.length} processes)`);
    } finally {
      owner.kill('SIGKILL');
      await Lab.down(name, { baseDir });
    }
  });
});
