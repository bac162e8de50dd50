import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Metrics } from './metrics.js';

export interface HealthSource {
  /** Alive: the reconcile loop is not wedged. */
  healthy(): boolean;
  /** Ready: caches synced and the first apply done. */
  ready(): boolean;
}

export interface StatusSource {
  /** JSON for `sluice status`: what this agent believes and did last. */
  status(): unknown;
  /** The NodePlan being enforced, for `sluice diff`; undefined before the first plan. */
  plan(): unknown;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  close(): Promise<void>;
}

interface Reply {
  readonly code: number;
  readonly type: string;
  readonly body: string;
}

type Route = (req: IncomingMessage) => Reply | Promise<Reply>;

const text = (code: number, body: string): Reply => ({ code, type: 'text/plain; charset=utf-8', body });

/**
 * /metrics, /healthz and /readyz: what Prometheus and the kubelet's probes need, and nothing that
 * names pods, EIPs or policies beyond metric labels. Meant for the node IP.
 */
export function startMetricsServer(metrics: Metrics, health: HealthSource, host: string, port: number): Promise<RunningServer> {
  return serve(host, port, {
    '/metrics': async () => ({ code: 200, type: metrics.registry.contentType, body: await metrics.text() }),
    '/healthz': () => (health.healthy() ? text(200, 'ok\n') : text(503, 'reconcile loop stuck\n')),
    '/readyz': () => (health.ready() ? text(200, 'ready\n') : text(503, 'not ready\n')),
  });
}

/**
 * /status and /plan: the node's whole view (pod IPs, EIPs, policy names). Meant for a loopback
 * address only, where `sluice status` and `sluice diff` on the node read them.
 */
export function startStatusServer(source: StatusSource, host: string, port: number): Promise<RunningServer> {
  return serve(host, port, {
    '/status': () => ({ code: 200, type: 'application/json', body: `${JSON.stringify(source.status(), null, 2)}\n` }),
    '/plan': () => {
      const plan = source.plan();
      return plan === undefined ? text(503, 'no plan yet\n') : { code: 200, type: 'application/json', body: `${JSON.stringify(plan)}\n` };
    },
  });
}

async function serve(host: string, port: number, routes: Readonly<Record<string, Route>>): Promise<RunningServer> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = Object.hasOwn(routes, path) ? routes[path] : undefined;
    const reply = async (): Promise<Reply> => {
      if (!route) return text(404, 'not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'only GET\n');
      return route(req);
    };
    reply().then(
      (r) => {
        res.writeHead(r.code, { 'content-type': r.type });
        res.end(req.method === 'HEAD' ? undefined : r.body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`${String(err)}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  return {
    server,
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
