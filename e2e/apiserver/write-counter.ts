/**
 * Counts write requests (POST, PUT, PATCH, DELETE) per resource as they arrive over HTTP, failed ones included,
 * so tests can assert how many API writes a component made. Keys look like `leases.coordination.k8s.io`,
 * `pods` or `egresspolicies.egress.sluice.dev/status`.
 */
export type WriteVerb = 'create' | 'update' | 'patch' | 'delete';

const VERBS: Record<string, WriteVerb> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: 'delete' };

export function writeVerbOf(method: string | undefined): WriteVerb | undefined {
  return method ? VERBS[method] : undefined;
}

export class WriteCounter {
  private readonly counts = new Map<string, Record<WriteVerb, number>>();

  record(resource: string, verb: WriteVerb): void {
    const entry = this.counts.get(resource) ?? { create: 0, update: 0, patch: 0, delete: 0 };
    entry[verb] += 1;
    this.counts.set(resource, entry);
  }

  /** Writes to one resource key, optionally of one verb only. */
  count(resource: string, verb?: WriteVerb): number {
    const entry = this.counts.get(resource);
    if (!entry) return 0;
    return verb ? entry[verb] : entry.create + entry.update + entry.patch + entry.delete;
  }

  total(): number {
    let sum = 0;
    for (const resource of this.counts.keys()) sum += this.count(resource);
    return sum;
  }

  snapshot(): Record<string, Record<WriteVerb, number>> {
    return Object.fromEntries([...this.counts.entries()].map(([resource, entry]) => [resource, { ...entry }]));
  }

  reset(): void {
    this.counts.clear();
  }
}
