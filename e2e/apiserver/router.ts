/** Top-level HTTP routing: version, health, discovery, openapi and resource paths. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { methodNotAllowed, unknownPath } from './api-error.js';
import type { ConnectionControl } from './connection-control.js';
import { aggregatedDiscovery, aggregatedDiscoveryContentType, apiResourceList, legacyApiGroup, legacyApiGroupList, legacyApiVersions, SERVER_VERSION } from './discovery.js';
import { sendError, sendJson, sendText } from './http-io.js';
import type { Json } from './json.js';
import { aggregatedDiscoveryVersion } from './media-types.js';
import type { ObjectStore } from './object-store.js';
import { groupVersionDocument, openApiRoot } from './openapi.js';
import { dispatchResourceRequest } from './resource-dispatch.js';
import type { ResourceRegistry } from './resource-registry.js';
import { resourceKey } from './resource-type.js';
import { parseResourcePath } from './request-target.js';
import type { WatchHub } from './watch-hub.js';
import type { ChangeJournal } from './change-journal.js';
import { writeVerbOf, type WriteCounter } from './write-counter.js';

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  userAgent: string;
}

export interface RouterDependencies {
  registry: ResourceRegistry;
  store: ObjectStore;
  hub: WatchHub;
  writes: WriteCounter;
  journal: ChangeJournal;
  control: ConnectionControl;
  requestLog: RequestLogEntry[];
  onRequest?: (entry: RequestLogEntry) => void;
  bookmarkIntervalMs: number;
  serverAddress(): string;
}

const REQUEST_LOG_LIMIT = 1000;

function discoveryOrUnknown(response: ServerResponse, document: Json | undefined, contentType?: string): void {
  if (document === undefined) throw unknownPath();
  sendJson(response, 200, document, { contentType });
}

function serveDiscovery(deps: RouterDependencies, request: IncomingMessage, response: ServerResponse, parts: string[]): boolean {
  const aggregated = aggregatedDiscoveryVersion(request.headers.accept);
  if (parts.length === 1 && (parts[0] === 'api' || parts[0] === 'apis')) {
    const core = parts[0] === 'api';
    if (aggregated) {
      sendJson(response, 200, aggregatedDiscovery(deps.registry, core, aggregated), { contentType: aggregatedDiscoveryContentType(aggregated) });
    } else {
      sendJson(response, 200, core ? legacyApiVersions(deps.serverAddress()) : legacyApiGroupList(deps.registry));
    }
    return true;
  }
  if (parts.length === 2 && parts[0] === 'api') {
    discoveryOrUnknown(response, apiResourceList(deps.registry, '', parts[1]));
    return true;
  }
  if (parts.length === 2 && parts[0] === 'apis') {
    discoveryOrUnknown(response, legacyApiGroup(deps.registry, parts[1]));
    return true;
  }
  if (parts.length === 3 && parts[0] === 'apis') {
    discoveryOrUnknown(response, apiResourceList(deps.registry, parts[1], parts[2]));
    return true;
  }
  return false;
}

function serveOpenApi(deps: RouterDependencies, response: ServerResponse, parts: string[]): boolean {
  if (parts[0] !== 'openapi') return false;
  if (parts.length === 2 && parts[1] === 'v3') {
    sendJson(response, 200, openApiRoot(deps.registry));
    return true;
  }
  if (parts[1] === 'v3' && parts[2] === 'api' && parts.length === 4) {
    discoveryOrUnknown(response, groupVersionDocument(deps.registry, '', parts[3]));
    return true;
  }
  if (parts[1] === 'v3' && parts[2] === 'apis' && parts.length === 5) {
    discoveryOrUnknown(response, groupVersionDocument(deps.registry, parts[3], parts[4]));
    return true;
  }
  throw unknownPath();
}

async function route(deps: RouterDependencies, request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
  const parts = url.pathname.split('/').filter((part) => part.length > 0);
  const target = parseResourcePath(url.pathname);
  const verb = writeVerbOf(request.method);
  if (target?.resource && verb) {
    const resource = resourceKey({ group: target.group, resource: target.resource });
    deps.writes.record(target.subresource ? `${resource}/${target.subresource}` : resource, verb);
  }
  if (request.method !== 'GET' && !target?.resource) throw methodNotAllowed();
  if (url.pathname === '/version') return sendJson(response, 200, SERVER_VERSION);
  if (['/healthz', '/livez', '/readyz'].includes(url.pathname)) return sendText(response, 200, 'ok');
  // For tests of a standalone server (the lab's): how many writes each client has sent.
  if (url.pathname === '/debug/writes') return sendJson(response, 200, deps.writes.snapshot());
  // For benchmarks: the committed changes with the server's timestamps (?since=RV&resource=R…).
  if (url.pathname === '/debug/changes') {
    const since = Number(url.searchParams.get('since') ?? '0');
    return sendJson(response, 200, { items: deps.journal.since(Number.isFinite(since) ? since : 0, url.searchParams.getAll('resource')) } as unknown as Json);
  }
  if (serveOpenApi(deps, response, parts)) return;
  if (!target?.resource) {
    if (serveDiscovery(deps, request, response, parts)) return;
    throw unknownPath();
  }
  const resolved = deps.registry.resolve(target.group, target.version, target.resource);
  if (!resolved) throw unknownPath();
  await dispatchResourceRequest({
    request,
    response,
    url,
    target,
    resolved,
    store: deps.store,
    hub: deps.hub,
    bookmarkIntervalMs: deps.bookmarkIntervalMs,
    trackStream: (stream) => deps.control.trackStream(stream),
  });
}

export function createRequestHandler(deps: RouterDependencies): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    if (deps.control.holdIfHanging(response)) return;
    const url = new URL(request.url ?? '/', 'http://apiserver.invalid');
    response.on('finish', () => {
      const entry = {
        method: request.method ?? '',
        path: `${url.pathname}${url.search}`,
        status: response.statusCode,
        userAgent: request.headers['user-agent'] ?? '',
      };
      deps.requestLog.push(entry);
      deps.onRequest?.(entry);
      if (deps.requestLog.length > REQUEST_LOG_LIMIT) deps.requestLog.splice(0, deps.requestLog.length - REQUEST_LOG_LIMIT);
    });
    route(deps, request, response, url).catch((error: unknown) => sendError(response, error));
  };
}
