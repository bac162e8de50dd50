/**
 * The one client every request to the API server goes through (reads, writes, watches, the
 * Lease, Events): JSON in, JSON out, over the kubeconfig's TLS and credentials. It passes wire
 * JSON through untouched, so what the cluster sent is what lib/api validates.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from './kubeconfig.js';
import { EgressError, errorMessage } from '../errors.js';
import { KubeApiError } from './api-error.js';
import { isRecord } from '../api/fields.js';
import { apiAnswers } from './api-reach.js';

export type JsonObject = Record<string, unknown>;
export type Query = Readonly<Record<string, string | undefined>>;

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete';
export const WRITE_VERBS: readonly Verb[] = ['create', 'update', 'patch', 'delete'];

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Whole-request limit; watches pass 0 and police themselves. */
  readonly timeoutMs?: number;
}

export interface KubeClientOptions {
  readonly timeoutMs?: number;
  readonly userAgent?: string;
  /**
   * While requests get no answer and someone waits for onAnsweringAgain, the client asks the API
   * server this often whether it is back (one GET /version at a time, this long its deadline), so
   * the news does not wait for the longest backoff of the requests that failed. 0: never asks.
   */
  readonly recheckMs?: number;
}

const DEFAULT_RECHECK_MS = 1000;

function verbOf(method: string, query: Query | undefined, path: string): Verb {
  switch (method) {
    case 'GET':
      if (query?.watch === 'true') return 'watch';
      return isNamedPath(path) ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    default:
      return 'delete';
  }
}

/** /api/v1/nodes is a collection, /api/v1/nodes/x an object, /api/v1/namespaces/ns/pods a collection. */
function isNamedPath(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const tail = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  return tail.length >= 2;
}

export class KubeClient {
  /** Requests sent, by verb (tests and metrics read it). */
  readonly counts: Record<Verb, number> = { get: 0, list: 0, watch: 0, create: 0, update: 0, patch: 0, delete: 0 };
  private readonly timeoutMs: number;
  private readonly userAgent: string;
  private agent: http.Agent | undefined;
  /** The last request that ended got no answer at all (refused, reset, timed out). */
  private unanswered = false;
  private readonly answeringAgainListeners = new Set<() => void>();
  private readonly recheckMs: number;
  private recheck: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly kubeConfig: KubeConfig,
    options: KubeClientOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.userAgent = options.userAgent ?? 'sluice';
    this.recheckMs = options.recheckMs ?? DEFAULT_RECHECK_MS;
  }

  /** Closes pooled connections (watches end on their own when their informers stop). */
  close(): void {
    this.closed = true;
    clearTimeout(this.recheck);
    this.recheck = undefined;
    this.agent?.destroy();
    this.agent = undefined;
  }

  /**
   * Calls `listener` each time the API server answers again (any HTTP status) after a request got
   * no answer at all: once per outage, at the first request that gets through, whichever it is (a
   * list, a Lease renewal, a write, the client's own check: see recheckMs). Work that failed on
   * the outage and waits out a backoff can retry then, once, instead of on its timer. Returns a
   * function that removes the listener.
   */
  onAnsweringAgain(listener: () => void): () => void {
    this.answeringAgainListeners.add(listener);
    return () => this.answeringAgainListeners.delete(listener);
  }

  private noteAnswer(answered: boolean): void {
    const back = answered && this.unanswered;
    this.unanswered = !answered;
    if (back) for (const listener of [...this.answeringAgainListeners]) listener();
    if (!answered) this.scheduleRecheck();
  }

  private scheduleRecheck(): void {
    if (this.recheck || this.closed || this.recheckMs <= 0 || this.answeringAgainListeners.size === 0) return;
    // ±20 %: the nodes of a cluster do not ask in step
    const delay = Math.round(this.recheckMs * (0.8 + 0.4 * Math.random()));
    this.recheck = setTimeout(() => {
      // an answer reaches the listeners through noteAnswer; none, the next check
      void apiAnswers(this, this.recheckMs).then(() => {
        this.recheck = undefined;
        if (this.unanswered) this.scheduleRecheck();
      });
    }, delay);
    this.recheck.unref();
  }

  get writes(): number {
    return WRITE_VERBS.reduce((sum, v) => sum + this.counts[v], 0);
  }

  get(path: string, signal?: AbortSignal): Promise<JsonObject> {
    return this.json('GET', path, { ...(signal ? { signal } : {}) });
  }

  list(path: string, query: Query = {}, signal?: AbortSignal): Promise<JsonObject> {
    return this.json('GET', path, { query, ...(signal ? { signal } : {}) });
  }

  create(path: string, body: JsonObject, signal?: AbortSignal): Promise<JsonObject> {
    return this.json('POST', path, { body, ...(signal ? { signal } : {}) });
  }

  replace(path: string, body: JsonObject, signal?: AbortSignal): Promise<JsonObject> {
    return this.json('PUT', path, { body, ...(signal ? { signal } : {}) });
  }

  mergePatch(path: string, body: JsonObject, signal?: AbortSignal): Promise<JsonObject> {
    return this.json('PATCH', path, { body, contentType: 'application/merge-patch+json', ...(signal ? { signal } : {}) });
  }

  delete(path: string, signal?: AbortSignal): Promise<JsonObject> {
    return this.json('DELETE', path, { ...(signal ? { signal } : {}) });
  }

  /** Sends a request and returns the parsed JSON answer; non-2xx answers throw KubeApiError. */
  async json(method: string, path: string, options: RequestOptions = {}): Promise<JsonObject> {
    const started = Date.now();
    const res = await this.open(method, path, options);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const text = await readBody(res, method, path, timeoutMs > 0 ? Math.max(1, timeoutMs - (Date.now() - started)) : 0);
    const body = parseJson(text);
    if ((res.statusCode ?? 0) >= 300) throw statusError(method, path, res.statusCode ?? 0, body, text);
    return isRecord(body) ? body : {};
  }

  /**
   * Opens a request and resolves with the response once its headers arrived (the body is the
   * caller's). Connection errors, timeouts and aborts reject with EgressError EGW_ERR_KUBE.
   */
  async open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const url = new URL(this.kubeConfig.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body));
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': this.userAgent };
    if (payload) {
      headers['Content-Type'] = options.contentType ?? 'application/json';
      headers['Content-Length'] = String(payload.length);
    }
    const reqOptions: https.RequestOptions = { method, headers };
    await this.kubeConfig.applyTo(reqOptions);
    // One pooled agent with the TLS material of the first request (a TCP and TLS handshake per
    // request otherwise); credentials still come per request (token rotation).
    if (!this.kubeConfig.proxied) {
      this.agent ??= url.protocol === 'http:' ? new http.Agent({ keepAlive: true }) : new https.Agent({ ...tlsOptions(reqOptions), keepAlive: true });
      reqOptions.agent = this.agent;
    }
    this.counts[verbOf(method, options.query, path)]++;
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    const what = `${method} ${path}`;
    options.signal?.throwIfAborted();
    // A pooled connection the server closed as idle (Node's server: after 5 s) while this process
    // was busy fails at once with ECONNRESET, the request unread: a read is sent again, once, on a
    // fresh connection. Writes are not (the server may have read them).
    let staleRetries = method === 'GET' ? 1 : 0;
    const send = (): Promise<IncomingMessage> =>
      new Promise<IncomingMessage>((resolve, reject) => {
        const mod = url.protocol === 'http:' ? http : https;
        let answered = false;
        const req = mod.request(url, reqOptions, (res) => {
          answered = true;
          cleanup();
          resolve(res);
          this.noteAnswer(true);
        });
        const fail = (err: unknown) => {
          cleanup();
          req.destroy();
          if (staleRetries > 0 && req.reusedSocket && isStaleSocketError(err) && !options.signal?.aborted) {
            staleRetries--;
            send().then(resolve, reject);
            return;
          }
          // a request the caller gave up on tells nothing about the server
          if (!answered && !options.signal?.aborted) this.noteAnswer(false);
          reject(err instanceof EgressError ? err : new EgressError('EGW_ERR_KUBE', `${what}: ${errorMessage(err)}`, { cause: err }));
        };
        const onAbort = () => fail(options.signal?.reason ?? new Error('aborted'));
        const timer = timeoutMs > 0 ? setTimeout(() => fail(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs) : undefined;
        const cleanup = () => {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
        };
        options.signal?.addEventListener('abort', onAbort, { once: true });
        req.on('error', fail);
        req.end(payload);
      });
    return send();
  }
}

function isStaleSocketError(err: unknown): boolean {
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}

function tlsOptions(o: https.RequestOptions): https.AgentOptions {
  const keys = ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername'] as const;
  return Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
}

function readBody(res: IncomingMessage, method: string, path: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = timeoutMs > 0 ? setTimeout(() => res.destroy(new Error(`answer not complete within the request timeout`)), timeoutMs) : undefined;
    const fail = (message: string, cause?: unknown) => {
      clearTimeout(timer);
      reject(new EgressError('EGW_ERR_KUBE', `${method} ${path}: ${message}`, { cause }));
    };
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    res.on('error', (err) => fail(errorMessage(err), err));
    res.on('aborted', () => fail('connection closed mid-answer'));
  });
}

function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Builds a KubeApiError from a v1 Status answer (or whatever the server sent). */
export function statusError(method: string, path: string, code: number, body: unknown, text = ''): KubeApiError {
  const status = isRecord(body) ? body : {};
  const reason = typeof status.reason === 'string' && status.reason ? status.reason : httpReason(code);
  const message = typeof status.message === 'string' ? status.message : text.slice(0, 200);
  return new KubeApiError(method, path, code, reason, message);
}

function httpReason(code: number): string {
  return http.STATUS_CODES[code]?.replace(/\s+/g, '') ?? 'Unknown';
}
