import { execFile } from 'node:child_process';

export interface CommandOutput {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command with a hard timeout; rejects with its stderr on a non-zero exit. */
export function runCommand(cmd: string, args: readonly string[], timeoutMs = 10_000): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`, { cause: err }));
      else resolve({ stdout, stderr });
    });
  });
}

/** True when `cmd` is on PATH. */
export async function hasCommand(cmd: string): Promise<boolean> {
  try {
    await runCommand('sh', ['-c', `command -v ${cmd}`], 5_000);
    return true;
  } catch {
    return false;
  }
}
