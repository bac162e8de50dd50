/** The LabContext handed to plugins: a view of the state being changed under the lab's lock. */
import { join } from 'node:path';
import { daemonState, signalDaemon, startDaemon, stopDaemon, type DaemonSpec } from './daemons.js';
import type { LabContext, LabPlugin } from './plugins.js';
import { run } from './run.js';
import type { DaemonState, LabState } from './state.js';

const BEFORE_DOWN_BOUND_MS = 10_000;

export function labContext(s: LabState): LabContext {
  const logDir = join(s.stateDir, 'logs');
  return {
    state: s,
    logDir,
    setControlPlane({ apiServer, kubeconfig }) {
      s.apiServer = apiServer;
      s.kubeconfig = kubeconfig;
    },
    async startDaemon(spec: DaemonSpec) {
      if (s.daemons.some((d) => d.role === spec.role)) throw new Error(`daemon ${spec.role} is already recorded`);
      const d = daemonState(spec, join(logDir, `${spec.role.replace(/[^A-Za-z0-9._-]/g, '_')}.log`));
      s.daemons.push(d);
      await startDaemon(d);
    },
    async startRecordedDaemon(role: string) {
      await startDaemon(findDaemon(s, role));
    },
    async stopDaemon(role, opts) {
      await stopDaemon(findDaemon(s, role), opts);
    },
    async signalDaemon(role, signal, opts) {
      await signalDaemon(findDaemon(s, role), signal, opts);
    },
    run,
  };
}

export function findDaemon(s: LabState, role: string): DaemonState {
  const d = s.daemons.find((x) => x.role === role);
  if (!d) throw new Error(`lab ${s.name} has no daemon ${role} (daemons: ${s.daemons.map((x) => x.role).join(', ') || 'none'})`);
  return d;
}

/** Best effort and bounded: down must finish even when a plugin cannot say goodbye. */
export async function runBeforeDown(s: LabState, plugins: readonly LabPlugin[]): Promise<void> {
  const ctx = labContext(s);
  for (const p of plugins) {
    if (!p.beforeDown) continue;
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer in ${BEFORE_DOWN_BOUND_MS} ms`)), BEFORE_DOWN_BOUND_MS);
    });
    await Promise.race([p.beforeDown(ctx), bound])
      .catch((err: unknown) => process.stderr.write(`lab: ${p.name} beforeDown: ${String(err)}\n`))
      .finally(() => clearTimeout(timer));
  }
}
