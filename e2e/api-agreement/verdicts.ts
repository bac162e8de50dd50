/**
 * The two judges of an egress object: sluice's parsers (what `sluice validate` and the agents
 * use) and the CRD schemas with their CEL rules, as the test API server applies them on a write
 * from `kubectl apply` (strict field validation).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from '../../lib/api/parse-document.js';
import { problemText } from '../../lib/api/problems.js';
import { ApiError } from '../apiserver/api-error.js';
import type { ApiServer } from '../apiserver/server.js';
import type { JsonObject } from '../apiserver/json.js';
import { applyManifests, readManifests } from '../apiserver/manifest-loader.js';
import { REPOSITORY_ROOT, withApiServer } from '../apiserver/test-support.js';
import { pino } from 'pino';

export interface Verdict {
  readonly accepted: boolean;
  readonly why: readonly string[];
}

/**
 * A test API server serving sluice's CRDs. A rule the server could not evaluate would silently
 * accept everything, so any skipped rule fails the run.
 */
export async function withSluiceApiServer<T>(run: (server: ApiServer) => Promise<T>): Promise<T> {
  const skipped: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (line: string) => skipped.push(line) });
  const result = await withApiServer(
    async (server) => {
      loadSluiceCrds(server);
      return run(server);
    },
    { logger },
  );
  if (skipped.length > 0) throw new Error(`the test API server skipped CRD rules:\n${skipped.join('')}`);
  return result;
}

function loadSluiceCrds(server: ApiServer): void {
  const dir = join(REPOSITORY_ROOT, 'manifests', 'crds');
  if (!existsSync(dir)) throw new Error(`${dir} is missing (run make crds)`);
  const skipped: string[] = [];
  applyManifests(
    server.store,
    readManifests([dir]).filter((o) => o.kind === 'CustomResourceDefinition'),
    (_o, reason) => skipped.push(reason),
  );
  if (skipped.length > 0) throw new Error(`CRDs not accepted: ${skipped.join('; ')}`);
}

/** Accepted when the parser finds nothing wrong: no problem, and no field it had to ignore. */
export function parserVerdict(doc: Record<string, unknown>): Verdict {
  const result = parseDocument(structuredClone(doc));
  const why = [...result.problems, ...(result.ignored ?? [])].map(problemText);
  return { accepted: why.length === 0, why };
}

function rejection(error: unknown): Verdict {
  if (error instanceof ApiError) return { accepted: false, why: [error.message] };
  throw error;
}

/** kubectl puts objects without a namespace into the context's namespace; a new namespace is created first. */
function ensureNamespace(server: ApiServer, doc: JsonObject): Verdict | undefined {
  const meta = doc.metadata as JsonObject | undefined;
  if (doc.kind !== 'EgressPolicy' && doc.kind !== 'EgressFirewall' && doc.kind !== 'EgressEndpointSlice') return undefined;
  if (!meta || typeof meta !== 'object' || Array.isArray(meta)) return undefined;
  if (meta.namespace === undefined || meta.namespace === null || meta.namespace === '') meta.namespace = 'default';
  if (typeof meta.namespace !== 'string') return { accepted: false, why: ['metadata.namespace is not a string'] };
  if (server.store.find('v1', 'Namespace', meta.namespace)) return undefined;
  try {
    server.store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: meta.namespace } });
  } catch (error) {
    return rejection(error);
  }
  return undefined;
}

/** A dry-run create, as `kubectl apply` of a new object sends it. */
export function serverVerdictOnCreate(server: ApiServer, doc: Record<string, unknown>): Verdict {
  const body = structuredClone(doc) as JsonObject;
  const namespaceVerdict = ensureNamespace(server, body);
  if (namespaceVerdict) return namespaceVerdict;
  try {
    server.store.create(body, { dryRun: true, fieldValidation: 'Strict' });
    return { accepted: true, why: [] };
  } catch (error) {
    return rejection(error);
  }
}

/** A dry-run status write onto `base` (which must already be stored), as a controller sends it. */
export function serverVerdictOnStatus(server: ApiServer, base: JsonObject, status: unknown): Verdict {
  const meta = base.metadata as JsonObject;
  const stored = server.store.get(String(base.apiVersion), String(base.kind), String(meta.name), String(meta.namespace ?? ''));
  try {
    server.store.updateStatus({ ...stored, status: status as JsonObject }, { dryRun: true, fieldValidation: 'Strict' });
    return { accepted: true, why: [] };
  } catch (error) {
    return rejection(error);
  }
}
