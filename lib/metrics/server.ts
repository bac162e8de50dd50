import { createServer, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

export interface HealthSource {
  /** Alive: the reconcile loop is not wedged. */
  healthy(): boolean;
  /** Ready: caches synced and the first apply done. */
  ready(): boolean;
  /** JSON for `sluice status`: what this agent believes and did last. */
  status(): unknown;
  /** The NodePlan being enforced, for `sluice diff`; undefined before the first plan. */
  plan?(): unknown;
}

/** Serves /metrics, /healthz, /readyz, /status and /plan on `host:port`. */
export async function startMetricsServer(metrics: Metrics, health: HealthSource, host: string, port: number): Promise<{ server: Server; port: number; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (path === '/metrics') {
      metrics.text().then((t) => send(200, metrics.registry.contentType, t), (err: unknown) => send(500, 'text/plain', String(err)));
    } else if (path === '/healthz') {
      const ok = health.healthy();
      send(ok ? 200 : 503, 'text/plain', ok ? 'ok\n' : 'reconcile loop stuck\n');
    } else if (path === '/readyz') {
      const ok = health.ready();
      send(ok ? 200 : 503, 'text/plain', ok ? 'ready\n' : 'not ready\n');
    } else if (path === '/plan') {
      const plan = health.plan?.();
      if (plan === undefined) send(503, 'text/plain', 'no plan yet\n');
      else send(200, 'application/json', `${JSON.stringify(plan)}\n`);
    } else if (path === '/status') {
      send(200, 'application/json', `${JSON.stringify(health.status(), null, 2)}\n`);
    } else {
      send(404, 'text/plain', 'not found\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
