/** Everything a resource handler needs about one request, plus the query parsing they share. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { badRequest } from './api-error.js';
import { parseFieldSelector } from './field-selector.js';
import { parseLabelSelector } from './label-selector.js';
import { responseShape, type ResponseShape } from './media-types.js';
import type { ObjectStore, WriteOptions } from './object-store.js';
import type { Selectors } from './object-view.js';
import type { ResolvedType } from './resource-registry.js';
import type { FieldValidation } from './resource-type.js';
import type { RequestTarget } from './request-target.js';
import type { WatchHub } from './watch-hub.js';

export interface ResourceRequest {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  target: RequestTarget;
  resolved: ResolvedType;
  store: ObjectStore;
  hub: WatchHub;
  bookmarkIntervalMs: number;
  /** Registers a long-running response so pause() and close() can cut it. */
  trackStream(response: ServerResponse): void;
}

export function namespaceOfRequest(context: ResourceRequest): string {
  return context.target.namespace ?? '';
}

export function shapeOf(context: ResourceRequest): ResponseShape {
  return responseShape(context.request.headers.accept);
}

export function selectorsOf(context: ResourceRequest): Selectors {
  const params = context.url.searchParams;
  const selectors: Selectors = {};
  const labelSelector = params.get('labelSelector');
  const fieldSelector = params.get('fieldSelector');
  if (labelSelector) selectors.labels = parseLabelSelector(labelSelector);
  if (fieldSelector) selectors.fields = parseFieldSelector(fieldSelector, context.resolved.type.selectableFields);
  return selectors;
}

export function writeOptionsOf(context: ResourceRequest): WriteOptions {
  const params = context.url.searchParams;
  const fieldValidation = params.get('fieldValidation') ?? undefined;
  if (fieldValidation !== undefined && !['Strict', 'Warn', 'Ignore'].includes(fieldValidation)) {
    throw badRequest(`fieldValidation parameter unsupported: ${fieldValidation}`);
  }
  return { dryRun: params.getAll('dryRun').includes('All'), fieldValidation: fieldValidation as FieldValidation | undefined };
}

export function isPretty(context: ResourceRequest): boolean {
  return context.url.searchParams.get('pretty') === 'true';
}
