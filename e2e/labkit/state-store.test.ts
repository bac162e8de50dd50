import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { removeStateDir, withLock } from './state-store.js';

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

test('two takers of one lab lock, the first removing the directory, both run and leave nothing', async () => {
  const base = await mkdtemp(join(tmpdir(), 'sluice-state-store-'));
  try {
    const lab = join(base, 'lab');
    const ran: string[] = [];
    await Promise.all([
      withLock(lab, async () => {
        ran.push('first');
        await new Promise((r) => setTimeout(r, 50));
        await rm(lab, { recursive: true, force: true });
      }),
      withLock(lab, async () => {
        ran.push('second');
      }),
    ]);
    assert.deepEqual(ran, ['first', 'second']);
    assert.deepEqual(await readdir(base), []);
  } finally {
    await rm(base, { recursive: true, force: true });
  }
});
