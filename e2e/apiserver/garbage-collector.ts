/**
 * Background garbage collection by ownerReferences: when an owner is removed, dependents whose owners are all
 * gone are deleted; dependents with other live owners lose the dangling reference. propagationPolicy=Orphan
 * strips the reference instead of deleting.
 */
import { asJsonObject, asString, isJsonObject, type JsonObject } from './json.js';
import { metadataOf, nameOf, namespaceOf } from './object-meta.js';
import type { ObjectStore, StoreChange } from './object-store.js';
import { resourceKey, type ResourceType } from './resource-type.js';

function ownerUids(object: JsonObject): string[] {
  const references = metadataOf(object).ownerReferences;
  if (!Array.isArray(references)) return [];
  return references.filter(isJsonObject).map((reference) => asString(reference.uid) ?? '');
}

const uidOf = (object: JsonObject): string => asString(asJsonObject(object.metadata)?.uid) ?? '';

export class GarbageCollector {
  private stopped = false;
  /**
   * Owner uid → its dependents (uid → resource): a deletion looks at those alone, not at every stored object
   * (100k Pods deleted one by one would otherwise scan the whole store each time). Built on first use, so
   * restored state is in it, then kept by every change; an entry may be stale, never missing.
   */
  private dependents: Map<string, Map<string, string>> | undefined;

  constructor(private readonly store: ObjectStore) {
    store.onChange((change) => {
      this.index(change);
      if (change.type !== 'DELETED') return;
      const uid = uidOf(change.object);
      if (!uid) return;
      const orphan = change.propagationPolicy === 'Orphan';
      setImmediate(() => this.collect(uid, orphan));
    });
  }

  stop(): void {
    this.stopped = true;
  }

  private index(change: StoreChange): void {
    if (!this.dependents) return;
    const uid = uidOf(change.object);
    if (change.type === 'DELETED') {
      for (const owner of ownerUids(change.object)) this.dependents.get(owner)?.delete(uid);
      return;
    }
    for (const owner of ownerUids(change.object)) this.link(this.dependents, owner, uid, change.resource);
  }

  private link(index: Map<string, Map<string, string>>, owner: string, uid: string, resource: string): void {
    let dependents = index.get(owner);
    if (!dependents) index.set(owner, (dependents = new Map()));
    dependents.set(uid, resource);
  }

  private built(): Map<string, Map<string, string>> {
    if (this.dependents) return this.dependents;
    const index = new Map<string, Map<string, string>>();
    for (const type of this.store.registry.all()) {
      const resource = resourceKey(type);
      for (const object of this.store.storedObjects(resource)) for (const owner of ownerUids(object)) this.link(index, owner, uidOf(object), resource);
    }
    return (this.dependents = index);
  }

  private collect(ownerUid: string, orphan: boolean): void {
    if (this.stopped) return;
    const index = this.built();
    const dependents = index.get(ownerUid);
    index.delete(ownerUid);
    if (!dependents) return;
    const types = new Map(this.store.registry.all().map((type) => [resourceKey(type), type]));
    for (const [uid, resource] of dependents) {
      const dependent = this.store.findByUid(uid);
      const type = types.get(resource);
      if (!dependent || !type) continue;
      const owners = ownerUids(dependent);
      if (!owners.includes(ownerUid)) continue;
      const liveOwners = owners.filter((uid) => uid !== ownerUid && this.store.findByUid(uid) !== undefined);
      if (orphan || liveOwners.length > 0) this.dropReferences(type, dependent, liveOwners);
      else this.deleteDependent(type, dependent);
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
