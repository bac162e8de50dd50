import { spawn, type ChildProcess } from 'node:child_process';

/** A child process whose output is collected and whose every wait has a deadline. */
export class BoundedProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #exit: Promise<number | null>;

  constructor(cmd: string, args: readonly string[]) {
    this.child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.stdout += s));
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.#exit = new Promise((resolve) => {
      this.child.on('error', (err) => {
        this.stderr += String(err);
        resolve(null);
      });
      this.child.on('close', (code) => resolve(code));
    });
  }

  /** Exit code, or throws after `ms`. */
  async exited(ms: number): Promise<number | null> {
    return withDeadline(this.#exit, ms, () => `timed out after ${ms} ms; stderr: ${this.stderr}`);
  }

  /** Resolves once stderr contains `text`, or throws after `ms`. */
  async stderrIncludes(text: string, ms: number): Promise<void> {
    const seen = new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.stderr.includes(text)) resolve();
        else if (this.child.exitCode !== null) reject(new Error(`exited early; stderr: ${this.stderr}`));
      };
      this.child.stderr?.on('data', check);
      this.child.on('close', check);
      check();
    });
    return withDeadline(seen, ms, () => `no "${text}" within ${ms} ms; stderr: ${this.stderr}`);
  }

  /** SIGKILL if still running. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

async function withDeadline<T>(promise: Promise<T>, ms: number, message: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message())), ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}
