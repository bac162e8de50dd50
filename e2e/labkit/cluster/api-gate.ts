/**
 * The lab's stand-in for the API server's authentication and RBAC: a reverse proxy in front of the
 * fake API server (which has neither) with one listener per identity. Each listener authenticates
 * everything it receives as its ServiceAccount, authorizes the request against the rendered RBAC
 * of manifests/ and answers 403 Forbidden as a real API server would; allowed requests, watches
 * included, are passed through unchanged. Every request is logged (one JSON line) with its
 * identity and RBAC attributes, so tests can compare what the code calls with what the manifests
 * grant.
 */
import { appendFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { forbiddenMessage, type Rbac } from './rbac.js';
import { requestAttributes, type RequestAttributes, type ResourceAttributes } from './request-attributes.js';

export interface GateIdentity {
  /** Short name in the log (`agent`, `controller`). */
  readonly name: string;
  readonly host: string;
  readonly port: number;
  /** Who the listener's callers are; several when one process holds more than one role. */
  readonly users: readonly { readonly user: string; readonly groups: readonly string[] }[];
}

export interface GateRecord {
  readonly identity: string;
  readonly userAgent: string;
  readonly method: string;
  readonly path: string;
  readonly attributes: RequestAttributes;
  readonly allowed: boolean;
  /** Answered by the gate with 409 Conflict, without reaching the API server (conflictGroups). */
  readonly conflict?: true;
}

export interface ApiGateOptions {
  readonly upstream: string;
  readonly identities: readonly GateIdentity[];
  readonly rbac: Rbac;
  /** JSON lines, one per request. */
  readonly logFile?: string;
  readonly onRequest?: (record: GateRecord) => void;
  /**
   * API groups whose first update of each resource (and subresource), per identity, the gate
   * answers with 409 Conflict, as a real server does when another writer got there first: the
   * caller must read the object again and retry.
   */
  readonly conflictGroups?: readonly string[];
}

export interface ApiGate {
  readonly ports: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

function conflict(res: ServerResponse, a: ResourceAttributes): void {
  const what = a.group ? `${a.resource}.${a.group}` : a.resource;
  const message = `Operation cannot be fulfilled on ${what} "${a.name}": the object has been modified; please apply your changes to the latest version and try again`;
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason: 'Conflict',
    details: { name: a.name, group: a.group, kind: a.resource },
    code: 409,
  });
  res.writeHead(409, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function forbidden(res: ServerResponse, message: string, a: RequestAttributes): void {
  const details = a.kind === 'resource' ? { ...(a.name ? { name: a.name } : {}), group: a.group, kind: a.resource } : {};
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Forbidden', details, code: 403 });
  res.writeHead(403, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/**
 * Non-resource paths (discovery, /version, /healthz, /openapi) are what the default
 * system:discovery and system:public-info-viewer roles grant every authenticated user.
 */
function allowed(identity: GateIdentity, options: ApiGateOptions, a: RequestAttributes): boolean {
  if (a.kind === 'nonResource') return a.verb === 'get';
  return identity.users.some((u) => options.rbac.allows(u, a));
}

export async function startApiGate(options: ApiGateOptions): Promise<ApiGate> {
  const upstream = new URL(options.upstream);
  const agent = new http.Agent({ keepAlive: true });
  const servers: http.Server[] = [];
  const ports = new Map<string, number>();
  const conflicted = new Set<string>();
  /** Whether this request is the first update of its resource by its identity in a conflictGroups group. */
  const injectConflict = (identity: GateIdentity, a: RequestAttributes): a is ResourceAttributes => {
    if (a.kind !== 'resource' || a.verb !== 'update' || !(options.conflictGroups ?? []).includes(a.group)) return false;
    const key = `${identity.name}|${a.group}|${a.resource}/${a.subresource}`;
    if (conflicted.has(key)) return false;
    conflicted.add(key);
    return true;
  };
  for (const identity of options.identities) {
    const server = http.createServer({ keepAlive: true }, (req, res) => void handle(identity, req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(identity.port, identity.host, () => resolve());
    });
    ports.set(identity.name, (server.address() as AddressInfo).port);
    servers.push(server);
  }

  function handle(identity: GateIdentity, req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://gate.invalid');
    const attributes = requestAttributes(req.method ?? 'GET', url);
    const ok = allowed(identity, options, attributes);
    const injected = ok && injectConflict(identity, attributes);
    const record: GateRecord = {
      identity: identity.name,
      userAgent: req.headers['user-agent'] ?? '',
      method: req.method ?? '',
      path: `${url.pathname}${url.search}`,
      attributes,
      allowed: ok,
      ...(injected ? { conflict: true as const } : {}),
    };
    if (options.logFile) appendFileSync(options.logFile, `${JSON.stringify(record)}\n`);
    options.onRequest?.(record);
    if (injected) {
      req.resume();
      conflict(res, attributes as ResourceAttributes);
      return;
    }
    if (!ok) {
      req.resume();
      const a = attributes.kind === 'resource' ? attributes : undefined;
      forbidden(res, a ? forbiddenMessage(identity.users[0]?.user ?? 'system:anonymous', a) : `forbidden: ${url.pathname}`, attributes);
      return;
    }
    const { host: _host, connection: _connection, ...headers } = req.headers;
    const out = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      res.flushHeaders();
      up.pipe(res);
      // an API server that goes away mid-answer cuts the stream; pass the cut on, never a clean end
      up.on('aborted', () => res.destroy());
      up.on('error', () => res.destroy());
    });
    // a dead API server: the caller's connection fails as its own would have
    out.on('error', () => req.socket.destroy());
    // the caller went away (a watch stopped): stop the upstream request too
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  }

  return {
    ports,
    async close() {
      agent.destroy();
      await Promise.all(
        servers.map(
          (s) =>
            new Promise<void>((resolve) => {
              s.closeAllConnections();
              s.close(() => resolve());
            }),
        ),
      );
    },
  };
}
