import type { JsonObject, KubeClient } from './rest-client.js';
import { statusError } from './rest-client.js';
import { isRecord } from '../api/fields.js';

export interface WatchTransportOptions {
  /** Asked of the server (timeoutSeconds); it ends the stream and the informer re-watches from the last resourceVersion. */
  readonly timeoutSeconds: number;
  /** Headers must arrive within this; a paused server otherwise hangs the informer. */
  readonly connectTimeoutMs: number;
  /** A stream silent for timeoutSeconds plus this is treated as ended (the server failed to close it). */
  readonly idleGraceMs: number;
}

/** One watch event: its type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) and object. */
type Callback = (type: string, object: JsonObject) => void;

/**
 * One watch stream that cannot hang: it adds timeoutSeconds and bookmarks to the query, bounds
 * the wait for headers, ends a silent stream, and turns a watch ERROR event into the end of the
 * stream carrying the Status code (the informer lists again on 410).
 */
export class WatchTransport {
  constructor(
    private readonly client: KubeClient,
    private readonly options: WatchTransportOptions,
    private readonly transform: (object: JsonObject) => JsonObject = (o) => o,
  ) {}

  /**
   * Opens the stream; `callback` hears every event and `done` is called once, when it ended: with
   * null when the server closed it (watch again from the last resourceVersion) or the returned
   * controller was aborted, else the error.
   */
  watch(path: string, queryParams: Record<string, string | undefined>, callback: Callback, done: (err: unknown) => void): AbortController {
    const controller = new AbortController();
    const query: Record<string, string> = {};
    for (const [k, v] of Object.entries(queryParams ?? {})) if (v !== undefined && v !== '') query[k] = String(v);
    query.watch = 'true';
    query.allowWatchBookmarks = 'true';
    query.timeoutSeconds = String(this.options.timeoutSeconds);
    let finished = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      if (idle) clearTimeout(idle);
      controller.abort();
      done(err ?? null);
    };
    const idleMs = this.options.timeoutSeconds * 1000 + this.options.idleGraceMs;
    const touch = () => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => finish(null), idleMs);
    };
    this.client.open('GET', path, { query, signal: controller.signal, timeoutMs: this.options.connectTimeoutMs }).then((res) => {
      if (finished) return void res.destroy();
      if (res.statusCode !== 200) {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
          finish(statusError('GET', path, res.statusCode ?? 0, body, text));
        });
        res.on('error', finish);
        return;
      }
      controller.signal.addEventListener('abort', () => res.destroy(), { once: true });
      touch();
      res.setEncoding('utf8');
      let buffer = '';
      res.on('data', (chunk: string) => {
        touch();
        buffer += chunk;
        let nl: number;
        while (!finished && (nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) deliver(line);
        }
      });
      res.on('end', () => finish(null));
      res.on('close', () => finish(null));
      res.on('error', finish);
    }, finish);

    const deliver = (line: string) => {
      let event: unknown;
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (!isRecord(event) || typeof event.type !== 'string') return;
      // an object without metadata cannot be stored (nor its resourceVersion resumed from)
      if (event.type !== 'ERROR' && !(isRecord(event.object) && isRecord(event.object.metadata))) return;
      try {
        const raw = isRecord(event.object) ? event.object : {};
        callback(event.type, event.type === 'ERROR' || event.type === 'BOOKMARK' ? raw : this.transform(raw));
      } catch (err) {
        return finish(err);
      }
      if (event.type === 'ERROR') {
        const status = isRecord(event.object) ? event.object : {};
        finish(statusError('WATCH', path, typeof status.code === 'number' ? status.code : 500, status));
      }
    };
    return controller;
  }
}
