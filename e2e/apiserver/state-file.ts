/**
 * --state FILE: the store is written to a JSON file shortly after each change and on shutdown, and read back
 * at start, so objects survive a process restart. Watches from before the restart get 410 Expired.
 */
import { readFileSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { CRD_KEY, registerCrd } from './crd-lifecycle.js';
import type { SkippedRuleReporter } from './cel-rules.js';
import { asString, isJsonObject, type JsonObject } from './json.js';
import type { ObjectStore } from './object-store.js';
import type { ResourceRegistry } from './resource-registry.js';
import type { WatchHub } from './watch-hub.js';

const FORMAT = 'sluice-apiserver-state/v1';

export class StateFileError extends Error {
  readonly code = 'APISRV_ERR_STATE_FILE';
}

export function restoreState(path: string, store: ObjectStore, registry: ResourceRegistry, hub: WatchHub, onSkippedRule: SkippedRuleReporter): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  const state: unknown = JSON.parse(text);
  if (!isJsonObject(state) || state.format !== FORMAT || !Array.isArray(state.objects) || typeof state.resourceVersion !== 'number') {
    throw new StateFileError(`${path} is not a ${FORMAT} file`);
  }
  const objects = state.objects.filter(isJsonObject);
  const resolve = (object: JsonObject) => registry.resolveKind(asString(object.apiVersion) ?? '', asString(object.kind) ?? '')?.type;
  const pending = store.restore(objects, state.resourceVersion, resolve);
  for (const crd of store.storedObjects(CRD_KEY)) registerCrd(registry, crd, onSkippedRule);
  store.restore(pending, state.resourceVersion, resolve);
  hub.compactAll(state.resourceVersion);
  return true;
}

export async function saveState(path: string, store: ObjectStore): Promise<void> {
  const snapshot = store.snapshot();
  const payload = JSON.stringify({ format: FORMAT, resourceVersion: snapshot.resourceVersion, objects: snapshot.objects });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, payload);
  await rename(temporary, path);
}

/** Saves at most every `delayMs` while changes keep coming. */
export class StatePersister {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly store: ObjectStore,
    private readonly delayMs = 100,
  ) {
    store.onChange(() => this.schedule());
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.writing = this.writing.then(() => saveState(this.path, this.store));
    await this.writing;
  }
}
