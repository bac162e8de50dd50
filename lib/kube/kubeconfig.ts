/**
 * Where the API server is and how each request authenticates. The agent and the controller run
 * in-cluster (a service account's token and CA) or with a kubeconfig of tokens and certificates:
 * both are read here, with no Kubernetes client library loaded (the agent's memory budget). A
 * kubeconfig that needs more (an exec plugin, an auth provider, a proxy, several files merged) is
 * handed to @kubernetes/client-node, loaded only then.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import type { RequestOptions } from 'node:https';
import { parse as parseYaml } from 'yaml';
import { EgressError, errorMessage } from '../errors.js';
import { isRecord } from '../api/fields.js';

const SERVICE_ACCOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What KubeClient needs of a kubeconfig. */
export interface KubeConfig {
  /** The API server's base URL. */
  readonly server: string;
  /** Set when requests must go through a proxy: applyTo then sets the request's agent itself. */
  readonly proxied: boolean;
  /** Adds TLS material and credentials to one request's options (per request: tokens rotate). */
  applyTo(options: RequestOptions): Promise<void>;
}

export interface KubeConfigOptions {
  /** A kubeconfig file; otherwise $KUBECONFIG, ~/.kube/config or the in-cluster service account. */
  readonly path?: string;
  readonly context?: string;
}

/** How long a token read from a file is used before the file is read again (client-go: one minute). */
const TOKEN_FILE_TTL_MS = 60_000;

/** A bearer token kept in a file that the kubelet rotates (a projected service account token). */
class TokenFile {
  private token = '';
  private readAt = -Infinity;

  constructor(
    private readonly path: string,
    private readonly ttlMs = TOKEN_FILE_TTL_MS,
  ) {}

  current(): string {
    if (Date.now() - this.readAt >= this.ttlMs) {
      this.token = readFileSync(this.path, 'utf8').trim();
      this.readAt = Date.now();
    }
    return this.token;
  }
}

interface Credentials {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly insecure?: boolean;
  readonly serverName?: string;
  readonly token?: string;
  readonly tokenFile?: TokenFile;
  readonly basic?: string;
}

function endpoint(server: string, credentials: Credentials): KubeConfig {
  return {
    server,
    proxied: false,
    async applyTo(options) {
      if (credentials.ca) options.ca = credentials.ca;
      if (credentials.cert) options.cert = credentials.cert;
      if (credentials.key) options.key = credentials.key;
      if (credentials.insecure) options.rejectUnauthorized = false;
      if (credentials.serverName) options.servername = credentials.serverName;
      const token = credentials.tokenFile?.current() ?? credentials.token;
      const headers = (options.headers ??= {}) as Record<string, string>;
      if (token) headers.Authorization = `Bearer ${token}`;
      else if (credentials.basic) headers.Authorization = `Basic ${Buffer.from(credentials.basic).toString('base64')}`;
    },
  };
}

/** A server URL without credentials, or with a bearer token (tests, local API servers). */
export function kubeConfigForServer(server: string, token?: string): KubeConfig {
  return endpoint(server, token ? { token } : {});
}

/**
 * The service account's view of the API server from inside a pod, or undefined when not in one.
 * The token is read again every tokenTtlMs: the kubelet rotates it in place.
 */
export function inClusterConfig(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT, tokenTtlMs = TOKEN_FILE_TTL_MS): KubeConfig | undefined {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  const tokenPath = `${dir}/token`;
  if (!host || !port || !existsSync(tokenPath)) return undefined;
  const scheme = port === '80' || port === '8080' || port === '8001' ? 'http' : 'https';
  const caPath = `${dir}/ca.crt`;
  return endpoint(`${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`, {
    ...(existsSync(caPath) ? { ca: readFileSync(caPath) } : {}),
    tokenFile: new TokenFile(tokenPath, tokenTtlMs),
  });
}

function named(list: unknown, name: unknown, field: string): Record<string, unknown> | undefined {
  const entry: unknown = Array.isArray(list) ? (list as unknown[]).find((e) => isRecord(e) && e.name === name) : undefined;
  return isRecord(entry) && isRecord(entry[field]) ? entry[field] : undefined;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * One kubeconfig file of tokens and certificates, or undefined when it needs what only
 * client-node does (exec plugins, auth providers, proxies). Relative paths in it are relative to
 * the file, as kubectl reads them.
 */
function fromFile(path: string, context: string | undefined): KubeConfig | undefined {
  const doc: unknown = parseYaml(readFileSync(path, 'utf8'));
  if (!isRecord(doc)) throw new Error('not a kubeconfig (no YAML mapping)');
  const contextName = context ?? doc['current-context'];
  const ctx = named(doc.contexts, contextName, 'context');
  if (!ctx) throw new Error(`no context ${JSON.stringify(contextName ?? '')}`);
  const cluster = named(doc.clusters, ctx.cluster, 'cluster');
  const user = named(doc.users, ctx.user, 'user') ?? {};
  const server = str(cluster?.server);
  if (!cluster || !server) throw new Error(`context ${String(contextName)}: no cluster with a server`);
  if (user.exec !== undefined || user['auth-provider'] !== undefined || cluster['proxy-url'] !== undefined) return undefined;
  const file = (p: unknown) => (str(p) ? readFileSync(isAbsolute(p as string) ? (p as string) : join(dirname(path), p as string)) : undefined);
  const data = (d: unknown) => (str(d) ? Buffer.from(d as string, 'base64') : undefined);
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  const tokenFile = str(user.tokenFile);
  const username = str(user.username);
  return endpoint(server, {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(cluster['insecure-skip-tls-verify'] === true ? { insecure: true } : {}),
    ...(str(cluster['tls-server-name']) ? { serverName: cluster['tls-server-name'] as string } : {}),
    ...(str(user.token) ? { token: user.token as string } : {}),
    ...(tokenFile ? { tokenFile: new TokenFile(isAbsolute(tokenFile) ? tokenFile : join(dirname(path), tokenFile)) } : {}),
    ...(username ? { basic: `${username}:${str(user.password) ?? ''}` } : {}),
  });
}

/** client-node's loader, for the kubeconfigs fromFile leaves to it (see the module comment). */
async function viaClientNode(options: KubeConfigOptions): Promise<KubeConfig> {
  const k8s = await import('@kubernetes/client-node');
  const kc = new k8s.KubeConfig();
  if (options.path) kc.loadFromFile(options.path);
  else kc.loadFromDefault();
  if (options.context) kc.setCurrentContext(options.context);
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new EgressError('EGW_ERR_CONFIG', 'kubeconfig: no current cluster (set --kubeconfig or run in a pod)');
  return { server: cluster.server, proxied: Boolean(cluster.proxyUrl), applyTo: (o) => kc.applyToHTTPSOptions(o) };
}

/**
 * Loads the kubeconfig the agent talks to the API server with, in kubectl's order: `path`, else
 * $KUBECONFIG, else ~/.kube/config, else the pod's service account. Throws EGW_ERR_CONFIG when unusable.
 */
export async function loadKubeConfig(options: KubeConfigOptions = {}, env: NodeJS.ProcessEnv = process.env): Promise<KubeConfig> {
  try {
    const home = join(env.HOME ?? homedir(), '.kube', 'config');
    const path = options.path ?? (env.KUBECONFIG || undefined) ?? (existsSync(home) ? home : undefined);
    if (path === undefined) {
      const pod = inClusterConfig(env);
      if (pod && options.context === undefined) return pod;
    } else if (!path.includes(':')) {
      const simple = fromFile(path, options.context);
      if (simple) return simple;
    }
    return await viaClientNode(options);
  } catch (err) {
    if (err instanceof EgressError) throw err;
    throw new EgressError('EGW_ERR_CONFIG', `kubeconfig${options.path ? ` ${options.path}` : ''}: ${errorMessage(err)}`, { cause: err });
  }
}

/** The namespace the agent runs in: $POD_NAMESPACE, the service account's, else `default`. */
export function agentNamespace(env: NodeJS.ProcessEnv = process.env): string {
  if (env.POD_NAMESPACE) return env.POD_NAMESPACE;
  try {
    const text = readFileSync(`${SERVICE_ACCOUNT}/namespace`, 'utf8').trim();
    if (text) return text;
  } catch {
    // not in a pod
  }
  return 'default';
}
