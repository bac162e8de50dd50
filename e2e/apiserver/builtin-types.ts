/** The built-in kinds of the fake cluster and the per-kind rules of their real strategies that matter here. */
import {
  configMapColumns,
  crdColumns,
  eventColumns,
  leaseColumns,
  namespaceColumns,
  nodeColumns,
  podColumns,
  serviceColumns,
} from './builtin-tables.js';
import { defaultCrdSpec, establishedCrdStatus, validateCrd } from './crd-resource-type.js';
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

export const CRD_GROUP = 'apiextensions.k8s.io';
export const CRD_RESOURCE = 'customresourcedefinitions';
