/**
 * Background garbage collection by ownerReferences: when an owner is removed, dependents whose owners are all
 * gone are deleted; dependents with other live owners lose the dangling reference. propagationPolicy=Orphan
 * strips the reference instead of deleting.
 */
import { asJsonObject, asString, isJsonObject, type JsonObject } from './json.js';
import { metadataOf, nameOf, namespaceOf } from './object-meta.js';
import type { ObjectStore } from './object-store.js';
import { resourceKey, type ResourceType } from './resource-type.js';

function ownerUids(object: JsonObject): string[] {
  const references = metadataOf(object).ownerReferences;
  if (!Array.isArray(references)) return [];
  return references.filter(isJsonObject).map((reference) => asString(reference.uid) ?? '');
}

export class GarbageCollector {
  private stopped = false;

  constructor(private readonly store: ObjectStore) {
    store.onChange((change) => {
      if (change.type !== 'DELETED') return;
      const uid = asString(asJsonObject(change.object.metadata)?.uid);
      if (!uid) return;
      const orphan = change.propagationPolicy === 'Orphan';
      setImmediate(() => this.collect(uid, orphan));
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private collect(ownerUid: string, orphan: boolean): void {
    if (this.stopped) return;
    for (const type of this.store.registry.all()) {
      for (const dependent of this.store.storedObjects(resourceKey(type))) {
        const owners = ownerUids(dependent);
        if (!owners.includes(ownerUid)) continue;
        const liveOwners = owners.filter((uid) => uid !== ownerUid && this.store.findByUid(uid) !== undefined);
        if (orphan || liveOwners.length > 0) this.dropReferences(type, dependent, liveOwners);
        else this.deleteDependent(type, dependent);
      }
    }
  }

  private dropReferences(type: ResourceType, dependent: JsonObject, keepUids: string[]): void {
    const references = (metadataOf(dependent).ownerReferences as JsonObject[]).filter((reference) => keepUids.includes(String(reference.uid)));
    const patch = { metadata: { ownerReferences: references.length > 0 ? references : null } };
    this.quietly(() => this.store.patch({ type, version: type.versions[0] }, namespaceOf(dependent), nameOf(dependent), 'application/merge-patch+json', patch));
  }

  private deleteDependent(type: ResourceType, dependent: JsonObject): void {
    this.quietly(() => this.store.delete({ type, version: type.versions[0] }, namespaceOf(dependent), nameOf(dependent), { propagationPolicy: 'Background' }));
  }

  private quietly(action: () => void): void {
    try {
      action();
    } catch {
      // The dependent changed or went away meanwhile; the next owner deletion will look again.
    }
  }
}
