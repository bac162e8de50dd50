/** Keeps the served types in step with the CRDs in the store: create/update registers, delete unregisters. */
import { CRD_GROUP, CRD_RESOURCE } from './builtin-types.js';
import type { SkippedRuleReporter } from './cel-rules.js';
import { resourceTypeFromCrd } from './crd-resource-type.js';
import type { JsonObject } from './json.js';
import type { ObjectStore } from './object-store.js';
import type { ResourceRegistry } from './resource-registry.js';
import { resourceKey } from './resource-type.js';
import type { WatchHub } from './watch-hub.js';

export const CRD_KEY = resourceKey({ group: CRD_GROUP, resource: CRD_RESOURCE });

export function registerCrd(registry: ResourceRegistry, crd: JsonObject, onSkippedRule: SkippedRuleReporter): void {
  registry.upsert(resourceTypeFromCrd(crd, onSkippedRule));
}

/** Removes every custom resource of the CRD (their finalizers are not waited for), then the type itself. */
function unregisterCrd(store: ObjectStore, registry: ResourceRegistry, hub: WatchHub, crd: JsonObject, onSkippedRule: SkippedRuleReporter): void {
  const key = resourceKey(resourceTypeFromCrd(crd, onSkippedRule));
  const type = registry.get(key);
  if (!type || type.origin !== 'crd') return;
  for (const object of store.storedObjects(key)) store.forceRemove(type, object);
  registry.remove(key);
  hub.closeResource(key);
}

export function attachCrdLifecycle(store: ObjectStore, registry: ResourceRegistry, hub: WatchHub, onSkippedRule: SkippedRuleReporter): void {
  store.onChange((change) => {
    if (change.resource !== CRD_KEY) return;
    if (change.type === 'DELETED') unregisterCrd(store, registry, hub, change.object, onSkippedRule);
    else registerCrd(registry, change.object, onSkippedRule);
  });
}
