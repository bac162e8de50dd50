import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { nodeColumns } from './builtin-tables.js';
import { resourceTypeFromCrd } from './crd-resource-type.js';
import { humanDuration } from './human-duration.js';
import { evaluateJsonPath } from './json-path.js';
import type { JsonObject } from './json.js';
import { buildTable } from './table.js';

describe('JSONPath subset', () => {
  const object: JsonObject = {
    metadata: { name: 'n1', labels: { 'kubernetes.io/os': 'linux' } },
    status: {
      conditions: [
        { type: 'Ready', status: 'True' },
        { type: 'Other', status: 'False' },
      ],
      eip: { ipv4: '198.18.0.10' },
      list: [1, 2, 3],
    },
  };
  const cases: Array<[string, unknown[]]> = [
    ['.status.eip.ipv4', ['198.18.0.10']],
    ['{.status.eip.ipv4}', ['198.18.0.10']],
    ['.status.eip.ipv6', []],
    [".metadata.labels['kubernetes.io/os']", ['linux']],
    ['.status.conditions[0].type', ['Ready']],
    ['.status.conditions[-1].type', ['Other']],
    ['.status.conditions[*].type', ['Ready', 'Other']],
    ['.status.conditions[?(@.type=="Ready")].status', ['True']],
    ['.status.list[1:3]', [2, 3]],
  ];
  for (const [path, expected] of cases) test(path, () => assert.deepEqual(evaluateJsonPath(object, path), expected));
});

describe('human durations (kubectl AGE)', () => {
  const cases: Array<[number, string]> = [
    [5, '5s'],
    [119, '119s'],
    [150, '2m30s'],
    [600, '10m'],
    [3 * 3600 + 300, '3h5m'],
    [30 * 3600, '30h'],
    [3 * 86400 + 3600, '3d1h'],
    [20 * 86400, '20d'],
    [3 * 365 * 86400, '3y'],
  ];
  for (const [seconds, expected] of cases) test(`${seconds}s → ${expected}`, () => assert.equal(humanDuration(seconds * 1000), expected));
});

describe('tables', () => {
  const now = new Date('2026-01-01T00:10:00Z');
  const crd: JsonObject = {
    metadata: { name: 'egresspolicies.egress.sluice.dev' },
    spec: {
      group: 'egress.sluice.dev',
      scope: 'Namespaced',
      names: { kind: 'EgressPolicy', plural: 'egresspolicies' },
      versions: [
        {
          name: 'v1alpha1',
          served: true,
          storage: true,
          additionalPrinterColumns: [
            { name: 'Gateway', type: 'string', jsonPath: '.spec.egressGatewayName' },
            { name: 'Ipv4', type: 'string', jsonPath: '.status.eip.ipv4' },
            { name: 'Priority', type: 'integer', jsonPath: '.spec.priority', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
          schema: { openAPIV3Schema: { type: 'object' } },
        },
      ],
    },
  };
  const policy: JsonObject = {
    metadata: { name: 'test', namespace: 'default', creationTimestamp: '2026-01-01T00:05:00Z', resourceVersion: '7' },
    spec: { egressGatewayName: 'default', priority: 5 },
  };

  test('CRD printer columns become Name + columns, with PartialObjectMetadata rows', () => {
    const type = resourceTypeFromCrd(crd, () => undefined);
    const table = buildTable(type.versions[0].columns, [policy], {
      metaApiVersion: 'meta.k8s.io/v1',
      resourceVersion: '9',
      includeColumnDefinitions: true,
      now,
    });
    assert.equal(table.kind, 'Table');
    assert.deepEqual((table.metadata as JsonObject).resourceVersion, '9');
    assert.deepEqual(
      (table.columnDefinitions as JsonObject[]).map((column) => [column.name, column.type, column.priority]),
      [
        ['Name', 'string', 0],
        ['Gateway', 'string', 0],
        ['Ipv4', 'string', 0],
        ['Priority', 'integer', 1],
        ['Age', 'date', 0],
      ],
    );
    const row = (table.rows as JsonObject[])[0];
    assert.deepEqual(row.cells, ['test', 'default', null, 5, '5m']);
    assert.deepEqual(row.object, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: policy.metadata });
  });

  test('a CRD without printer columns gets an Age column', () => {
    const bare = structuredClone(crd);
    delete (((bare.spec as JsonObject).versions as JsonObject[])[0] as JsonObject).additionalPrinterColumns;
    const type = resourceTypeFromCrd(bare, () => undefined);
    assert.deepEqual(
      type.versions[0].columns.map((column) => column.name),
      ['Age'],
    );
  });

  test('node status, roles and addresses', () => {
    const node: JsonObject = {
      metadata: { name: 'n1', creationTimestamp: '2026-01-01T00:00:00Z', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: { conditions: [{ type: 'Ready', status: 'True' }], addresses: [{ type: 'InternalIP', address: '198.18.0.2' }] },
    };
    const table = buildTable(nodeColumns, [node], { metaApiVersion: 'meta.k8s.io/v1', resourceVersion: '1', includeColumnDefinitions: false, now });
    assert.equal(table.columnDefinitions, null);
    assert.deepEqual((table.rows as JsonObject[])[0].cells, ['n1', 'Ready,SchedulingDisabled', 'control-plane', '10m', '', '198.18.0.2', '<none>']);
  });
});
