import { execa } from 'execa';

export interface RunOptions {
  /** Run inside this network namespace (via `ip netns exec`). */
  netns?: string;
  input?: string;
  /** Kill the command after this long; every lab command is bounded. */
  timeoutMs?: number;
  /** Resolve with the result instead of throwing on a non-zero exit. */
  allowFailure?: boolean;
  /** Added to the environment. */
  env?: Record<string, string>;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export class LabCommandError extends Error {
  constructor(
    readonly argv: readonly string[],
    readonly result: RunResult,
  ) {
    super(`${argv.join(' ')} failed (exit ${result.exitCode}): ${result.stderr.trim() || result.stdout.trim()}`);
    this.name = 'LabCommandError';
  }
}

const DEFAULT_TIMEOUT_MS = 20_000;

export function inNetns(netns: string | undefined, argv: readonly string[]): string[] {
  return netns === undefined ? [...argv] : ['ip', 'netns', 'exec', netns, ...argv];
}

export async function run(argv: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const full = inNetns(opts.netns, argv);
  const [file, ...args] = full;
  if (file === undefined) throw new Error('run: empty command');
  const r = await execa(file, args, {
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : 'pipe',
    reject: false,
    timeout: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    stripFinalNewline: false,
    ...(opts.env ? { env: opts.env } : {}),
  });
  // No exit code: it could not be started (e.g. ENOENT) or was killed; execa's message says which.
  const why = r.exitCode === undefined ? `\n${r.shortMessage}` : '';
  const result: RunResult = {
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? '') + why,
    exitCode: r.exitCode ?? (r.timedOut ? 124 : 1),
  };
  if (result.exitCode !== 0 && !opts.allowFailure) throw new LabCommandError(full, result);
  return result;
}

/**
 * `ip -batch -`: one process for many commands. Not transactional: with `force` it keeps going after
 * errors (used by teardown), otherwise it stops at the first failing line.
 */
export async function ipBatch(netns: string | undefined, lines: readonly string[], force = false): Promise<RunResult> {
  const argv = ['ip', ...(netns === undefined ? [] : ['-n', netns]), ...(force ? ['-force'] : []), '-batch', '-'];
  return run(argv, { input: lines.join('\n') + '\n', allowFailure: force });
}
