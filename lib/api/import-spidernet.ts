import { API_VERSION, KINDS } from './group.js';
import { isRecord } from './fields.js';

const SPIDERNET_PREFIX = 'egressgateway.spidernet.io/';
const CONVERTIBLE = new Set<string>(KINDS);

/** Fields spidernet has that sluice does not read; they are dropped with a note. */
const DROPPED: Record<string, string[]> = {
  EgressGateway: ['spec.clusterDefault', 'spec.nodeSelector.policy'],
};

export interface ImportResult {
  readonly doc: unknown;
  readonly converted: boolean;
  readonly notes: readonly string[];
}

function dropPath(obj: Record<string, unknown>, path: string): boolean {
  const parts = path.split('.');
  let cur: unknown = obj;
  for (const p of parts.slice(0, -1)) {
    if (!isRecord(cur)) return false;
    cur = cur[p];
  }
  const last = parts[parts.length - 1]!;
  if (isRecord(cur) && last in cur) {
    delete cur[last];
    return true;
  }
  return false;
}

/**
 * Converts one spidernet EgressGateway document to sluice's group. Kinds and field names are the
 * same; server-owned metadata and status are removed so the result can be applied as new.
 */
export function importSpidernet(doc: unknown): ImportResult {
  if (!isRecord(doc) || typeof doc.apiVersion !== 'string' || !doc.apiVersion.startsWith(SPIDERNET_PREFIX)) {
    return { doc, converted: false, notes: [] };
  }
  const kind = String(doc.kind ?? '');
  if (!CONVERTIBLE.has(kind)) return { doc, converted: false, notes: [`${kind || 'document'}: not a kind sluice has; left unchanged`] };
  const copy = structuredClone(doc) as Record<string, unknown>;
  copy.apiVersion = API_VERSION;
  const notes: string[] = [];
  if (isRecord(copy.metadata)) {
    for (const key of ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink']) delete copy.metadata[key];
    if (isRecord(copy.metadata.annotations)) delete copy.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration'];
  }
  delete copy.status;
  for (const path of DROPPED[kind] ?? []) {
    if (dropPath(copy, path)) notes.push(`${kind} "${String((copy.metadata as Record<string, unknown> | undefined)?.name ?? '')}": dropped ${path} (not used by sluice)`);
  }
  return { doc: copy, converted: true, notes };
}
