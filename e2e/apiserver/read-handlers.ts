/** GET of one object and of lists, as plain JSON, Table or PartialObjectMetadata. */
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

export function handleList(context: ResourceRequest): void {
  const { type, version } = context.resolved;
  const params = context.url.searchParams;
  const page = context.store.listPage(context.resolved, {
    namespace: context.target.namespace,
    selectors: selectorsOf(context),
    limit: params.get('limit'),
    continueToken: params.get('continue'),
    resourceVersion: params.get('resourceVersion'),
  });
  const { resourceVersion } = page;
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
  if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
  const list =
    shape.kind === 'partial'
      ? { kind: 'PartialObjectMetadataList', apiVersion: shape.metaApiVersion, metadata, items: page.items.map((item) => partialObjectMetadata(item, shape.metaApiVersion)) }
      : { kind: type.listKind, apiVersion: apiVersionOf(type.group, version.name), metadata, items: page.items };
  sendJson(context.response, 200, list, { pretty });
}
