/**
 * A bounded tcpdump in a lab namespace: started before the traffic it should see, stopped after
 * `count` packets or `timeoutMs`, whichever comes first. Lines are printed with link-level headers
 * (`-e`) and no name resolution.
 */
import { spawn } from 'node:child_process';
import { inNetns } from '../labkit/run.js';

export interface Capture {
  /** Resolves with the captured lines once tcpdump has exited. */
  readonly lines: Promise<string[]>;
  /** Ends the capture now (SIGINT, so tcpdump flushes what it has). */
  stop(): Promise<string[]>;
}

const START_TIMEOUT_MS = 15_000;
/** Frames still in flight (a reply being forwarded) when stop() is called get this long to arrive. */
const STOP_GRACE_MS = 200;

export async function startCapture(netns: string, filter: string, opts: { count: number; timeoutMs: number; iface?: string }): Promise<Capture> {
  const argv = inNetns(netns, ['tcpdump', '--immediate-mode', '-i', opts.iface ?? 'eth0', '-nn', '-e', '-l', '-c', String(opts.count), filter]);
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const timer = setTimeout(() => child.kill('SIGINT'), opts.timeoutMs);
  const lines = exited.then(() => {
    clearTimeout(timer);
    return stdout.split('\n').filter((l) => l.trim() !== '');
  });
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`tcpdump in ${netns} did not start (${why}): ${stderr.trim()}`));
    };
    const startTimer = setTimeout(() => fail('timeout'), START_TIMEOUT_MS);
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.includes('listening on')) {
        clearTimeout(startTimer);
        resolve();
      }
    });
    void exited.then(() => {
      clearTimeout(startTimer);
      if (!stderr.includes('listening on')) fail('exited');
    });
  });
  return {
    lines,
    stop: async () => {
      await Promise.race([exited, new Promise((r) => setTimeout(r, STOP_GRACE_MS))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
      return lines;
    },
  };
}
