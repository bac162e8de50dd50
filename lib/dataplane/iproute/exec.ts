import { execa } from 'execa';
import { EgressError } from '../../errors.js';

export interface ExecResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

/** Runs a program to completion; never rejects on a non-zero exit, only when it cannot start. */
export type Exec = (file: string, args: readonly string[], input?: string) => Promise<ExecResult>;

export const execFile: Exec = async (file, args, input) => {
  const r = await execa(file, args, { reject: false, input: input ?? '', stripFinalNewline: false });
  if (r.exitCode === undefined) {
    throw new EgressError('EGW_ERR_NETLINK', `${file} could not run: ${r.message}`, { cause: r });
  }
  return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
};

/** Runs `tool -json …` and parses the array it prints; empty output is an empty list. */
export async function execJson<T>(exec: Exec, tool: 'ip' | 'bridge', args: readonly string[]): Promise<T[]> {
  const r = await exec(tool, ['-json', ...args]);
  if (r.exitCode !== 0) {
    throw new EgressError('EGW_ERR_NETLINK', `${tool} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  }
  const text = r.stdout.trim();
  if (text === '') return [];
  try {
    return JSON.parse(text) as T[];
  } catch (err) {
    throw new EgressError('EGW_ERR_NETLINK', `${tool} ${args.join(' ')}: output is not JSON`, { cause: err });
  }
}
