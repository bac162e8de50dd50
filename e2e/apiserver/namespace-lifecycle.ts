/**
 * Deleting a namespace deletes what it contains. The fake removes the namespace at once instead of keeping it
 * Terminating; contained objects with finalizers keep their deletionTimestamp until released.
 */
import { namespaceOf } from './object-meta.js';
import type { ObjectStore } from './object-store.js';
import { resourceKey } from './resource-type.js';

export function attachNamespaceLifecycle(store: ObjectStore): void {
  store.onChange((change) => {
    if (change.resource !== 'namespaces' || change.type !== 'DELETED') return;
    const namespace = String((change.object.metadata as { name?: unknown }).name ?? '');
    for (const type of store.registry.all()) {
      if (!type.namespaced) continue;
      const resolved = { type, version: type.versions[0] };
      for (const object of store.storedObjects(resourceKey(type))) {
        if (namespaceOf(object) !== namespace) continue;
        const name = String((object.metadata as { name?: unknown }).name ?? '');
        try {
          store.delete(resolved, namespace, name, {});
        } catch {
          // Already gone: a listener of an earlier deletion removed it.
        }
      }
    }
  });
}
