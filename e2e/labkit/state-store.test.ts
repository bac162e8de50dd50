import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LabGoneError, removeStateDir, withLock } from './state-store.js';

test('a lab directory left empty under the lock is removed with the lock; one with logs or state stays', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-state-store-'));
  try {
    const lab = join(base, 'lab');
    await withLock(lab, async () => {
      await writeFile(join(lab, 'state.json'), '{}');
    });
    assert.deepEqual(await readdir(lab), ['state.json'], 'the state stays, the lock is gone');

    // taken down keeping logs, but there were none; then taken down again
    await withLock(lab, () => removeStateDir(lab, true));
    assert.deepEqual(await readdir(base), [], 'no empty lab directory left behind');
    await withLock(lab, () => removeStateDir(lab, true));
    assert.deepEqual(await readdir(base), []);

    await withLock(lab, async () => {
      await writeFile(join(lab, 'state.json'), '{}');
      await withLock(join(lab, 'logs'), () => writeFile(join(lab, 'logs', 'agent.log'), 'line\n'));
    });
    await withLock(lab, () => removeStateDir(lab, true));
    assert.deepEqual(await readdir(lab), ['logs'], 'the logs are kept');
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});

test('a lock taker whose lab was taken down while it waited is told so, and nothing is left', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-state-store-'));
  try {
    const lab = join(base, 'lab');
    let entered = false;
    const first = withLock(lab, async () => {
      entered = true;
      await new Promise((r) => setTimeout(r, 100));
      await rm(lab, { recursive: true, force: true });
    });
    while (!entered) await new Promise((r) => setTimeout(r, 5));
    const second = withLock(lab, async () => assert.fail('ran in a lab that is gone'));
    await first;
    await assert.rejects(second, LabGoneError);
    assert.deepEqual(await readdir(base), []);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
