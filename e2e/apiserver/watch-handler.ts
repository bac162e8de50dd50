/**
 * `?watch=true`: newline-delimited JSON events on a chunked 200 response. Headers are flushed at once
 * (client-node waits for them), the initial state is replayed as ADDED for resourceVersion ""/"0", later
 * versions resume from the hub's history, and a version older than that history ends with an ERROR 410 event.
 */
import { ApiError, badRequest } from './api-error.js';
import type { JsonObject } from './json.js';
import { matchesSelectors, presentAs } from './object-view.js';
import { apiVersionOf, resourceKey } from './resource-type.js';
import { selectorsOf, shapeOf, type ResourceRequest } from './request-context.js';
import { buildTable, partialObjectMetadata, TABLE_MEDIA_TYPE } from './table.js';
import type { WatchEventType } from './watch-hub.js';

type EventType = WatchEventType | 'BOOKMARK' | 'ERROR';

/**
 * The last event line written, by the stored object it presents: the hub hands one change to every
 * watch in turn, and stored objects are replaced, never changed in place, so a change fanned out to a
 * thousand watches of one API version is presented and serialized once (as the real server's watch
 * cache does), not once per watch.
 */
let lastLine: { object: JsonObject; key: string; line: string } | undefined;

function eventLine(eventType: EventType, version: string, object: JsonObject, present: (object: JsonObject) => JsonObject): string {
  const key = `${eventType} ${version}`;
  if (lastLine?.object !== object || lastLine.key !== key) lastLine = { object, key, line: `${JSON.stringify({ type: eventType, object: present(object) })}\n` };
  return lastLine.line;
}

function parseResourceVersion(value: string | null): number | undefined {
  if (value === null || value === '' || value === '0') return undefined;
  if (!/^\d+$/.test(value)) throw badRequest(`invalid resource version: ${value}`);
  return Number(value);
}

export function handleWatch(context: ResourceRequest, fixedName?: string): void {
  const { type, version } = context.resolved;
  const params = context.url.searchParams;
  const selectors = selectorsOf(context);
  const since = parseResourceVersion(params.get('resourceVersion'));
  const initialEventsParam = params.get('sendInitialEvents');
  const sendInitialEvents = initialEventsParam === 'true' || (since === undefined && initialEventsParam !== 'false');
  const allowBookmarks = params.get('allowWatchBookmarks') === 'true';
  const timeoutSeconds = Number(params.get('timeoutSeconds') ?? '0');
  const namespace = context.target.namespace;
  const shape = shapeOf(context);
  const response = context.response;

  response.writeHead(200, {
    'Content-Type': shape.kind === 'table' ? TABLE_MEDIA_TYPE : 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  response.flushHeaders();
  context.trackStream(response);

  let sentColumns = false;
  const render = (object: JsonObject): JsonObject => {
    const presented = presentAs(type, version.name, object);
    if (shape.kind === 'partial') return partialObjectMetadata(presented, shape.metaApiVersion);
    if (shape.kind !== 'table') return presented;
    const table = buildTable(version.columns, [presented], {
      metaApiVersion: shape.metaApiVersion,
      resourceVersion: String((presented.metadata as JsonObject).resourceVersion ?? ''),
      includeColumnDefinitions: !sentColumns,
    });
    sentColumns = true;
    return table;
  };
  const writeLine = (line: string): void => {
    if (!response.writableEnded && !response.destroyed) response.write(line);
  };
  const write = (eventType: EventType, object: JsonObject): void => writeLine(`${JSON.stringify({ type: eventType, object })}\n`);
  // a table or metadata-only watch renders per watch (a table's first event carries the columns)
  const deliver = (eventType: WatchEventType, object: JsonObject): void =>
    shape.kind === 'object' ? writeLine(eventLine(eventType, version.name, object, render)) : write(eventType, render(object));
  const bookmark = (annotations?: JsonObject): void => {
    const metadata: JsonObject = { resourceVersion: String(context.store.resourceVersion) };
    if (annotations) metadata.annotations = annotations;
    write('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type.group, version.name), metadata });
  };
  const matches = (object: JsonObject): boolean => {
    const metadata = object.metadata as JsonObject;
    if (namespace && metadata.namespace !== namespace) return false;
    if (fixedName && metadata.name !== fixedName) return false;
    return matchesSelectors(object, selectors);
  };

  const timers: NodeJS.Timeout[] = [];
  let unsubscribe: (() => void) | undefined;
  const finish = (): void => {
    timers.forEach(clearTimeout);
    unsubscribe?.();
    if (!response.writableEnded) response.end();
  };
  response.on('close', finish);

  if (sendInitialEvents) {
    for (const object of context.store.storedObjects(resourceKey(type))) if (matches(object)) write('ADDED', render(object));
    if (allowBookmarks && initialEventsParam === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });
  }
  try {
    unsubscribe = context.hub.subscribe(resourceKey(type), since, {
      matches,
      deliver,
      close: finish,
    });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    write('ERROR', error.toStatus());
    finish();
    return;
  }
  if (allowBookmarks) timers.push(setInterval(() => bookmark(), context.bookmarkIntervalMs));
  if (timeoutSeconds > 0) timers.push(setTimeout(finish, timeoutSeconds * 1000));
}
