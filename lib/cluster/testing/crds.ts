import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { isRecord } from '../../api/fields.js';
import type { JsonObject } from '../../kube/rest-client.js';

/** Tests run from dist/lib/cluster/testing; the CRDs stay in the source tree. */
const CRD_DIR = fileURLToPath(new URL('../../../../manifests/crds/', import.meta.url));

/** The generated CRDs of every egress kind (manifests/crds), as objects to create in a test API server. */
export function egressCrds(): JsonObject[] {
  return readdirSync(CRD_DIR)
    .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
    .sort()
    .flatMap((f) => parseAllDocuments(readFileSync(join(CRD_DIR, f), 'utf8')).map((d) => d.toJS() as unknown))
    .filter((o): o is JsonObject => isRecord(o) && o.kind === 'CustomResourceDefinition');
}
