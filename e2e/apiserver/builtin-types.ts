/** The built-in kinds of the fake cluster and the per-kind rules of their real strategies that matter here. */
import {
  configMapColumns,
  crdColumns,
  daemonSetColumns,
  deploymentColumns,
  podDisruptionBudgetColumns,
  roleBindingColumns,
  roleColumns,
  serviceAccountColumns,
  eventColumns,
  leaseColumns,
  namespaceColumns,
  nodeColumns,
  podColumns,
  serviceColumns,
} from './builtin-tables.js';
import { defaultCrdSpec, establishedCrdStatus, validateCrd } from './crd-resource-type.js';
import { invalid, required, type FieldError } from './field-error.js';
import { asJsonObject, type JsonObject } from './json.js';
import type { CellColumn, ResourceType } from './resource-type.js';

interface BuiltinSpec {
  group?: string;
  version?: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  hasStatus?: boolean;
  columns: CellColumn[];
  overrides?: Partial<ResourceType>;
}

function builtin(spec: BuiltinSpec): ResourceType {
  const version = spec.version ?? 'v1';
  return {
    group: spec.group ?? '',
    resource: spec.resource,
    singular: spec.kind.toLowerCase(),
    kind: spec.kind,
    listKind: `${spec.kind}List`,
    namespaced: spec.namespaced,
    shortNames: spec.shortNames ?? [],
    categories: spec.categories ?? [],
    versions: [{ name: version, hasStatus: spec.hasStatus ?? false, columns: spec.columns }],
    storageVersion: version,
    origin: 'builtin',
    tracksGeneration: false,
    allowUnconditionalUpdate: true,
    keepsStatusOnCreate: false,
    nameRule: 'dns-subdomain',
    selectableFields: [],
    ...spec.overrides,
  };
}

/** Hands out ClusterIPs from 10.96.0.0/12 in order, like a fresh cluster's allocator would. */
function clusterIpAllocator(): () => string {
  let next = 10;
  return () => {
    const offset = next;
    next += 1;
    return `10.96.${Math.floor(offset / 256) % 256}.${offset % 256}`;
  };
}

export function createBuiltinTypes(): ResourceType[] {
  const allocateClusterIp = clusterIpAllocator();
  return [
    builtin({
      resource: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      shortNames: ['ns'],
      hasStatus: true,
      columns: namespaceColumns,
      overrides: {
        nameRule: 'dns-label',
        selectableFields: ['status.phase'],
        prepareForCreate(object) {
          object.status = { phase: 'Active' };
          const spec = asJsonObject(object.spec) ?? {};
          spec.finalizers ??= ['kubernetes'];
          object.spec = spec;
        },
      },
    }),
    builtin({
      resource: 'nodes',
      kind: 'Node',
      namespaced: false,
      shortNames: ['no'],
      hasStatus: true,
      columns: nodeColumns,
      overrides: { keepsStatusOnCreate: true, selectableFields: ['spec.unschedulable'] },
    }),
    builtin({
      resource: 'pods',
      kind: 'Pod',
      namespaced: true,
      shortNames: ['po'],
      categories: ['all'],
      hasStatus: true,
      columns: podColumns,
      overrides: {
        selectableFields: [
          'spec.nodeName',
          'spec.restartPolicy',
          'spec.schedulerName',
          'spec.serviceAccountName',
          'spec.hostNetwork',
          'status.phase',
          'status.podIP',
          'status.nominatedNodeName',
        ],
        prepareForCreate(object) {
          object.status = { phase: 'Pending', qosClass: 'BestEffort' };
        },
      },
    }),
    builtin({
      resource: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
      columns: eventColumns,
      overrides: {
        selectableFields: [
          'involvedObject.kind',
          'involvedObject.namespace',
          'involvedObject.name',
          'involvedObject.uid',
          'involvedObject.apiVersion',
          'involvedObject.resourceVersion',
          'involvedObject.fieldPath',
          'reason',
          'reportingComponent',
          'source',
          'type',
        ],
      },
    }),
    builtin({ resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'], columns: configMapColumns }),
    builtin({
      resource: 'services',
      kind: 'Service',
      namespaced: true,
      shortNames: ['svc'],
      categories: ['all'],
      hasStatus: true,
      columns: serviceColumns,
      overrides: {
        prepareForCreate(object) {
          object.status = { loadBalancer: {} };
          const spec: JsonObject = asJsonObject(object.spec) ?? {};
          spec.type ??= 'ClusterIP';
          if (spec.type !== 'ExternalName' && spec.clusterIP === undefined) {
            spec.clusterIP = allocateClusterIp();
            spec.clusterIPs = [spec.clusterIP];
          }
          object.spec = spec;
        },
      },
    }),
    builtin({ group: 'coordination.k8s.io', resource: 'leases', kind: 'Lease', namespaced: true, columns: leaseColumns }),
    builtin({ resource: 'serviceaccounts', kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'], columns: serviceAccountColumns }),
    // RBAC: names are path segments (system:… is fine), no status; what they grant is not enforced here.
    ...(['ClusterRole', 'Role'] as const).map((kind) =>
      builtin({ group: RBAC_GROUP, resource: `${kind.toLowerCase()}s`, kind, namespaced: kind === 'Role', columns: roleColumns, overrides: { nameRule: 'path-segment' } }),
    ),
    ...(['ClusterRoleBinding', 'RoleBinding'] as const).map((kind) =>
      builtin({
        group: RBAC_GROUP,
        resource: `${kind.toLowerCase()}s`,
        kind,
        namespaced: kind === 'RoleBinding',
        columns: roleBindingColumns,
        overrides: { nameRule: 'path-segment' },
      }),
    ),
    // Workloads are stored, never run (there is no controller manager): status stays as written.
    workload('Deployment', 'deployments', ['deploy'], deploymentColumns),
    workload('DaemonSet', 'daemonsets', ['ds'], daemonSetColumns),
    builtin({
      group: 'policy',
      resource: 'poddisruptionbudgets',
      kind: 'PodDisruptionBudget',
      namespaced: true,
      shortNames: ['pdb'],
      hasStatus: true,
      columns: podDisruptionBudgetColumns,
      overrides: { tracksGeneration: true },
    }),
    builtin({
      group: 'apiextensions.k8s.io',
      resource: 'customresourcedefinitions',
      kind: 'CustomResourceDefinition',
      namespaced: false,
      shortNames: ['crd', 'crds'],
      categories: ['api-extensions'],
      hasStatus: true,
      columns: crdColumns,
      overrides: {
        tracksGeneration: true,
        allowUnconditionalUpdate: false,
        prepareForCreate(object) {
          defaultCrdSpec(object);
          object.status = establishedCrdStatus(object, undefined);
        },
        prepareForUpdate(object, old) {
          defaultCrdSpec(object);
          object.status = establishedCrdStatus(object, old.status);
        },
        validate: (object) => ({ errors: validateCrd(object), unknownFields: [] }),
      },
    }),
  ];
}

const RBAC_GROUP = 'rbac.authorization.k8s.io';

/**
 * apps/v1 Deployment and DaemonSet: generation tracked, and the one check kubectl users meet
 * most, as the real validation words it: a selector is required and must match the template's
 * labels (matchLabels; matchExpressions are not evaluated here).
 */
function workload(kind: string, resource: string, shortNames: string[], columns: CellColumn[]): ResourceType {
  return builtin({
    group: 'apps',
    resource,
    kind,
    namespaced: true,
    shortNames,
    categories: ['all'],
    hasStatus: true,
    columns,
    overrides: { tracksGeneration: true, validate: (object) => ({ errors: validateSelector(object, kind.toLowerCase()), unknownFields: [] }) },
  });
}

function validateSelector(object: JsonObject, kind: string): FieldError[] {
  const spec = asJsonObject(object.spec) ?? {};
  const selector = asJsonObject(spec.selector);
  if (!selector) return [required('spec.selector')];
  const matchLabels = asJsonObject(selector.matchLabels) ?? {};
  if (Object.keys(matchLabels).length === 0 && !Array.isArray(selector.matchExpressions)) {
    return [invalid('spec.selector', selector, `empty selector is invalid for ${kind}`)];
  }
  const labels = asJsonObject(asJsonObject(asJsonObject(spec.template)?.metadata)?.labels) ?? {};
  const mismatch = Object.entries(matchLabels).some(([k, v]) => labels[k] !== v);
  return mismatch ? [invalid('spec.template.metadata.labels', labels, '`selector` does not match template `labels`')] : [];
}

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_RESOURCE = 'customresourcedefinitions';
