import { stringify } from 'yaml';
import { GROUP, VERSION } from '../group.js';
import { KIND_DEFINITIONS, type KindDefinition } from './kinds.js';

const HEADER = '# Generated from lib/api/schema/kinds.ts by `make crds`. Do not edit.\n';

function crdObject(def: KindDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      scope: def.scope,
      names: { kind: def.kind, listKind: `${def.kind}List`, plural: def.plural, singular: def.singular, shortNames: [...def.shortNames], categories: ['sluice'] },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          ...(def.statusSubresource ? { subresources: { status: {} } } : {}),
          ...(def.printerColumns.length ? { additionalPrinterColumns: def.printerColumns } : {}),
          schema: { openAPIV3Schema: { type: 'object', ...def.schema } },
        },
      ],
    },
  };
}

/** File name → YAML text of every CRD, as committed in manifests/crds/. */
export function renderCrdFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const def of KIND_DEFINITIONS) {
    files.set(`${GROUP}_${def.plural}.yaml`, HEADER + stringify(crdObject(def), { lineWidth: 0 }));
  }
  files.set('kustomization.yaml', HEADER + stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: [...files.keys()].sort() }));
  return files;
}
