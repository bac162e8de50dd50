/** Helpers shared by this folder's tests: a server per test, a sandboxed kubectl, bounded HTTP and watch reads. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { pino } from 'pino';
import { startApiServer, type ApiServer, type ApiServerOptions } from './server.js';

/** Tests run from dist/e2e/apiserver; the fixtures stay in the source tree. */
export const TESTDATA = fileURLToPath(new URL('../../../e2e/apiserver/testdata/', import.meta.url));
export const REPOSITORY_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function testdata(name: string): string {
  return join(TESTDATA, name);
}

const quietLogger = pino({ level: 'silent' });

export async function withApiServer<T>(run: (server: ApiServer) => Promise<T>, options: ApiServerOptions = {}): Promise<T> {
  const server = await startApiServer({ logger: quietLogger, ...options });
  try {
    return await run(server);
  } finally {
    await server.close();
  }
}

export async function withTimeout<T>(promise: Promise<T>, milliseconds: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${milliseconds} ms: ${what}`)), milliseconds);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface HttpResult {
  status: number;
  headers: Headers;
  body: any;
}

export async function http(url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<HttpResult> {
  const headers = { ...(init.body !== undefined ? { 'Content-Type': 'application/json' } : {}), ...init.headers };
  const response = await fetch(url, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON (health endpoints); keep the text.
  }
  return { status: response.status, headers: response.headers, body };
}

export interface WatchEvent {
  type: string;
  object: any;
}

/**
 * Reads a watch stream until `done(events)` holds or the stream ends (normally, or cut: then `error` is set);
 * always bounded by `timeoutMs`.
 */
export async function readWatch(
  url: string,
  done: (events: WatchEvent[]) => boolean,
  options: { headers?: Record<string, string>; timeoutMs?: number; onOpen?: () => void | Promise<void> } = {},
): Promise<{ events: WatchEvent[]; ended: boolean; status: number; error?: unknown }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 5000);
  const events: WatchEvent[] = [];
  let ended = false;
  let status = 0;
  let failure: unknown;
  try {
    const response = await fetch(url, { headers: options.headers, signal: controller.signal });
    status = response.status;
    if (!response.body) return { events, ended: true, status };
    if (options.onOpen) await options.onOpen();
    const decoder = new TextDecoder();
    let buffered = '';
    const reader = response.body.getReader();
    for (;;) {
      if (done(events)) break;
      const chunk = await reader.read();
      if (chunk.done) {
        ended = true;
        break;
      }
      buffered += decoder.decode(chunk.value, { stream: true });
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline).trim();
        buffered = buffered.slice(newline + 1);
        if (line) events.push(JSON.parse(line) as WatchEvent);
        newline = buffered.indexOf('\n');
      }
    }
    await reader.cancel().catch(() => undefined);
  } catch (error) {
    // A connection cut by the server (pause, crash) ends the watch; our own timeout does not.
    if (!controller.signal.aborted) {
      ended = true;
      failure = error;
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  return { events, ended, status, error: failure };
}

let kubectlCheck: Promise<string | undefined> | undefined;

/** Undefined when kubectl can run, otherwise the reason to skip. */
export function kubectlMissing(): Promise<string | undefined> {
  kubectlCheck ??= execa('kubectl', ['version', '--client'], { reject: false, timeout: 30_000 }).then((result) =>
    result.exitCode === 0 ? undefined : `kubectl is not usable here (${result.stderr || result.shortMessage}); skipping`,
  );
  return kubectlCheck;
}

export interface KubectlResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  run(args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts a long-running kubectl (e.g. get -w); the caller must kill it. */
  spawn(args: string[]): ReturnType<typeof execa>;
  cleanup(): Promise<void>;
}

/** kubectl with a throwaway HOME, kubeconfig and cache directory, so no state leaks between tests. */
export async function sandboxedKubectl(server: ApiServer): Promise<Kubectl> {
  const home = await mkdtemp(join(tmpdir(), 'fake-apiserver-kubectl-'));
  const kubeconfig = join(home, 'kubeconfig');
  await server.writeKubeconfig(kubeconfig);
  const env = { HOME: home, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(home, 'cache') };
  return {
    async run(args, options = {}) {
      const result = await execa('kubectl', args, {
        env,
        input: options.input,
        reject: false,
        timeout: options.timeoutMs ?? 30_000,
      });
      return { exitCode: result.exitCode ?? -1, stdout: String(result.stdout), stderr: String(result.stderr) };
    },
    spawn(args) {
      return execa('kubectl', args, { env, reject: false, buffer: false, timeout: 60_000 });
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}
