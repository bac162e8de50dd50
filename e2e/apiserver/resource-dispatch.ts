/** Routes a request on a resource path to the verb handler, rejecting shapes the real server does not serve. */
import { methodNotAllowed, unknownPath } from './api-error.js';
import { handleGet, handleList } from './read-handlers.js';
import type { ResourceRequest } from './request-context.js';
import { handleWatch } from './watch-handler.js';
import { handleCreate, handleDelete, handleDeleteCollection, handlePatch, handleUpdate } from './write-handlers.js';

function isWatch(context: ResourceRequest): boolean {
  const watch = context.url.searchParams.get('watch');
  return watch === 'true' || watch === '1';
}

export async function dispatchResourceRequest(context: ResourceRequest): Promise<void> {
  const { target, resolved } = context;
  const { type, version } = resolved;
  if (!type.namespaced && target.namespace !== undefined) throw unknownPath();
  if (type.namespaced && target.name !== undefined && target.namespace === undefined) throw unknownPath();
  const subresource = target.subresource;
  if (subresource !== undefined && !(subresource === 'status' && version.hasStatus)) throw unknownPath();
  const status = subresource === 'status' ? 'status' : undefined;
  const name = target.name;
  switch (context.request.method) {
    case 'GET':
      if (name === undefined) return isWatch(context) ? handleWatch(context) : handleList(context);
      return isWatch(context) ? handleWatch(context, name) : handleGet(context, name);
    case 'POST':
      if (name !== undefined || (type.namespaced && target.namespace === undefined)) throw methodNotAllowed();
      return handleCreate(context);
    case 'PUT':
      if (name === undefined) throw methodNotAllowed();
      return handleUpdate(context, name, status);
    case 'PATCH':
      if (name === undefined) throw methodNotAllowed();
      return handlePatch(context, name, status);
    case 'DELETE':
      if (status) throw methodNotAllowed();
      return name === undefined ? handleDeleteCollection(context) : handleDelete(context, name);
    default:
      throw methodNotAllowed();
  }
}
