/** A reaper's job, done once its owner is gone: as fast as possible, nobody is left to say goodbye to. */
import { join } from 'node:path';
import { listNetns } from '../netns.js';
import { loadState } from '../state-store.js';
import { removeNetns } from '../teardown.js';
import type { ReaperJob } from './jobs.js';
import { killGroupOf, sameIdentity, type ProcessIdentity } from './process-identity.js';

/** What the reaper did, for its log line. */
export async function reap(job: ReaperJob, owner: ProcessIdentity): Promise<string> {
  switch (job.kind) {
    case 'lab': {
      // Only the lab this owner built: the name may since have been taken down and built again by another process.
      const state = await loadState(join(job.baseDir, job.name)).catch(() => undefined);
      if (!state) return `lab ${job.name}: no state, nothing to do`;
      if (!sameIdentity(state.owner, owner)) return `lab ${job.name}: owned by another process now, left alone`;
      // Loaded here: the other jobs' reapers need not carry the whole lab (reaper-main preloads it for this one).
      const { Lab } = await import('../lab.js');
      const removed = await Lab.down(job.name, { baseDir: job.baseDir, hard: true });
      return `lab ${job.name}: removed ${removed.length} namespaces`;
    }
    case 'netns': {
      const names = await listNetns(job.prefix);
      await removeNetns(names, { hard: true });
      return `netns ${job.prefix}*: removed ${names.length}`;
    }
    case 'group':
      return `group ${job.leader.pid}: ${(await killGroupOf(job.leader)) ? 'killed' : 'already gone'}`;
  }
}
