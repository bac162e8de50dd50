/** The set of served resource types; CRDs add and remove entries while the server runs. */
import { compareKubeVersions } from './crd-resource-type.js';
import { resourceKey, servedVersion, type ResourceType, type ServedVersion } from './resource-type.js';

export interface ResolvedType {
  type: ResourceType;
  version: ServedVersion;
}

export interface ApiGroupInfo {
  name: string;
  /** Preferred first. */
  versions: string[];
}

export class ResourceRegistry {
  private readonly types = new Map<string, ResourceType>();
  /** Bumped on every change; the openapi documents use it in their hash. */
  private revision = 0;

  constructor(builtins: ResourceType[]) {
    for (const type of builtins) this.types.set(resourceKey(type), type);
  }

  get changeCount(): number {
    return this.revision;
  }

  all(): ResourceType[] {
    return [...this.types.values()];
  }

  get(key: string): ResourceType | undefined {
    return this.types.get(key);
  }

  upsert(type: ResourceType): void {
    this.types.set(resourceKey(type), type);
    this.revision += 1;
  }

  remove(key: string): void {
    if (this.types.delete(key)) this.revision += 1;
  }

  resolve(group: string, version: string, resource: string): ResolvedType | undefined {
    const type = this.types.get(resourceKey({ group, resource }));
    const served = type && servedVersion(type, version);
    return type && served ? { type, version: served } : undefined;
  }

  resolveKind(apiVersion: string, kind: string): ResolvedType | undefined {
    const slash = apiVersion.indexOf('/');
    const group = slash >= 0 ? apiVersion.slice(0, slash) : '';
    const version = slash >= 0 ? apiVersion.slice(slash + 1) : apiVersion;
    for (const type of this.types.values()) {
      if (type.group !== group || type.kind !== kind) continue;
      const served = servedVersion(type, version);
      if (served) return { type, version: served };
    }
    return undefined;
  }

  typesIn(group: string, version: string): ResolvedType[] {
    return this.all().flatMap((type) => {
      const served = type.group === group ? servedVersion(type, version) : undefined;
      return served ? [{ type, version: served }] : [];
    });
  }

  /** Named groups in discovery order: built-in groups first, then CRD groups alphabetically. */
  groups(): ApiGroupInfo[] {
    const byName = new Map<string, { versions: Set<string>; builtin: boolean }>();
    for (const type of this.types.values()) {
      if (type.group === '') continue;
      const entry = byName.get(type.group) ?? { versions: new Set<string>(), builtin: false };
      for (const version of type.versions) entry.versions.add(version.name);
      entry.builtin ||= type.origin === 'builtin';
      byName.set(type.group, entry);
    }
    return [...byName.entries()]
      .sort(([nameA, a], [nameB, b]) => Number(b.builtin) - Number(a.builtin) || (a.builtin ? 0 : nameA.localeCompare(nameB)))
      .map(([name, entry]) => ({ name, versions: [...entry.versions].sort(compareKubeVersions) }));
  }
}
