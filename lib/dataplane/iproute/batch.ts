import type { Exec } from './exec.js';

export type BatchTool = 'ip' | 'bridge';

interface BatchFailure {
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
 * The failed lines of a `-force -batch` run, from its stderr: each rejected line N is reported as
 * `<message lines>\nCommand failed -:N`. Returns message by 0-based command index.
 */
export function batchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const raw of stderr.split('\n')) {
    const line = raw.trim();
    const m = FAILED_LINE.exec(line);
    if (m) {
      failures.set(Number(m[1]) - 1, pending.join('; ') || 'failed');
      pending = [];
    } else if (line !== '') pending.push(line);
  }
  return failures;
}

/**
 * Writes stay with iproute2 (EIP addresses aside: addresses/address-writes.ts) while reads go
 * over rtnetlink (kernel-reads.ts): reads run on every apply, writes only when something changed
 * (a no-op apply writes nothing); one process carries any number of lines, so its start-up is
 * paid once per subsystem; and iproute2 encodes the many attribute combinations (VXLAN creation,
 * onlink routes, fwmark rules) as operators check them.
 *
 * Feeds commands to one `ip|bridge -force -batch -` process. Not transactional: with -force every
 * line runs, and each rejected one is reported as `<message>\nCommand failed -:N` on stderr.
 */
export async function runBatch(exec: Exec, tool: BatchTool, commands: readonly string[], family?: 4 | 6): Promise<BatchResult> {
  if (commands.length === 0) return { writes: 0, failures: [] };
  const args = [...(family ? [`-${family}`] : []), '-force', '-batch', '-'];
  const r = await exec(tool, args, commands.join('\n') + '\n');
  const failures: BatchFailure[] = [...batchFailures(r.stderr)].map(([i, message]) => ({ command: commands[i] ?? `line ${i + 1}`, message }));
  if (r.exitCode !== 0 && failures.length === 0) {
    // The tool died without naming a line (bad option, crash): count nothing as written.
    return { writes: 0, failures: commands.map((command) => ({ command, message: r.stderr.trim() || `exit ${r.exitCode}` })) };
  }
  return { writes: commands.length - failures.length, failures };
}
