import type { Exec } from './exec.js';

export type BatchTool = 'ip' | 'bridge';

export interface BatchFailure {
  /** The command as written to the batch. */
  readonly command: string;
  readonly message: string;
}

export interface BatchResult {
  /** Commands the kernel accepted. */
  readonly writes: number;
  readonly failures: readonly BatchFailure[];
}

const FAILED_LINE = /^Command failed -:(\d+)$/;

/**
 * Feeds commands to one `ip|bridge -force -batch -` process. Not transactional: with -force every
 * line runs, and each rejected one is reported as `<message>\nCommand failed -:N` on stderr.
 */
export async function runBatch(exec: Exec, tool: BatchTool, commands: readonly string[], family?: 4 | 6): Promise<BatchResult> {
  if (commands.length === 0) return { writes: 0, failures: [] };
  const args = [...(family ? [`-${family}`] : []), '-force', '-batch', '-'];
  const r = await exec(tool, args, commands.join('\n') + '\n');
  const failures: BatchFailure[] = [];
  let pending: string[] = [];
  for (const line of r.stderr.split('\n')) {
    const m = FAILED_LINE.exec(line.trim());
    if (!m) {
      if (line.trim() !== '') pending.push(line.trim());
      continue;
    }
    const command = commands[Number(m[1]) - 1] ?? `line ${m[1]}`;
    failures.push({ command, message: pending.join('; ') || 'failed' });
    pending = [];
  }
  if (r.exitCode !== 0 && failures.length === 0) {
    // The tool died without naming a line (bad option, crash): count nothing as written.
    return { writes: 0, failures: commands.map((command) => ({ command, message: r.stderr.trim() || `exit ${r.exitCode}` })) };
  }
  return { writes: commands.length - failures.length, failures };
}
