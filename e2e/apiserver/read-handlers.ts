/** GET of one object and of lists, as plain JSON, Table or PartialObjectMetadata. */
import { badRequest } from './api-error.js';
import { sendJson } from './http-io.js';
import type { JsonObject } from './json.js';
import { apiVersionOf } from './resource-type.js';
import { isPretty, namespaceOfRequest, selectorsOf, shapeOf, type ResourceRequest } from './request-context.js';
import { buildTable, partialObjectMetadata, TABLE_MEDIA_TYPE } from './table.js';

export function handleGet(context: ResourceRequest, name: string): void {
  const object = context.store.get(context.resolved, namespaceOfRequest(context), name);
  const shape = shapeOf(context);
  const pretty = isPretty(context);
  if (shape.kind === 'table') {
    const resourceVersion = String((object.metadata as JsonObject).resourceVersion ?? '');
    const table = buildTable(context.resolved.version.columns, [object], {
      metaApiVersion: shape.metaApiVersion,
      resourceVersion,
      includeColumnDefinitions: true,
    });
    sendJson(context.response, 200, table, { contentType: TABLE_MEDIA_TYPE, pretty });
  } else if (shape.kind === 'partial') {
    sendJson(context.response, 200, partialObjectMetadata(object, shape.metaApiVersion), { pretty });
  } else {
    sendJson(context.response, 200, object, { pretty });
  }
}

interface Page {
  items: JsonObject[];
  continueToken?: string;
  remaining?: number;
}

function paginate(items: JsonObject[], limitParam: string | null, continueParam: string | null): Page {
  let start = 0;
  if (continueParam) {
    try {
      start = Number(JSON.parse(Buffer.from(continueParam, 'base64url').toString('utf8')).start);
    } catch {
      throw badRequest('invalid continue token');
    }
    if (!Number.isInteger(start) || start < 0) throw badRequest('invalid continue token');
  }
  const limit = limitParam ? Number(limitParam) : 0;
  if (!Number.isInteger(limit) || limit <= 0 || start + limit >= items.length) return { items: items.slice(start) };
  const end = start + limit;
  return {
    items: items.slice(start, end),
    continueToken: Buffer.from(JSON.stringify({ start: end })).toString('base64url'),
    remaining: items.length - end,
  };
}

export function handleList(context: ResourceRequest): void {
  const { type, version } = context.resolved;
  const { items, resourceVersion } = context.store.list(context.resolved, context.target.namespace, selectorsOf(context));
  const params = context.url.searchParams;
  const page = paginate(items, params.get('limit'), params.get('continue'));
  const shape = shapeOf(context);
  const pretty = isPretty(context);
  if (shape.kind === 'table') {
    const table = buildTable(version.columns, page.items, {
      metaApiVersion: shape.metaApiVersion,
      resourceVersion,
      continueToken: page.continueToken,
      includeColumnDefinitions: true,
    });
    sendJson(context.response, 200, table, { contentType: TABLE_MEDIA_TYPE, pretty });
    return;
  }
  const metadata: JsonObject = { resourceVersion };
  if (page.continueToken) metadata.continue = page.continueToken;
  if (page.remaining !== undefined) metadata.remainingItemCount = page.remaining;
  const list =
    shape.kind === 'partial'
      ? { kind: 'PartialObjectMetadataList', apiVersion: shape.metaApiVersion, metadata, items: page.items.map((item) => partialObjectMetadata(item, shape.metaApiVersion)) }
      : { kind: type.listKind, apiVersion: apiVersionOf(type.group, version.name), metadata, items: page.items };
  sendJson(context.response, 200, list, { pretty });
}
