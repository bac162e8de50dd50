import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './api-error.js';
import { applyJsonPatch, JsonPatchError } from './json-patch.js';
import type { JsonObject } from './json.js';
import { applyMergePatch } from './merge-patch.js';
import { patchTypeOf } from './patch.js';
import { applyStrategicMergePatch } from './strategic-merge-patch.js';

describe('JSON merge patch', () => {
  test('merges objects, replaces lists and deletes with null', () => {
    const target = { metadata: { labels: { a: '1', b: '2' } }, spec: { list: [1, 2, 3], keep: true } };
    const patched = applyMergePatch(target, { metadata: { labels: { b: null, c: '3' } }, spec: { list: [9] } });
    assert.deepEqual(patched, { metadata: { labels: { a: '1', c: '3' } }, spec: { list: [9], keep: true } });
    assert.deepEqual(target.metadata.labels, { a: '1', b: '2' }, 'the target is not mutated');
  });

  test('a non-object patch replaces the document', () => {
    assert.deepEqual(applyMergePatch({ a: 1 }, [1, 2]), [1, 2]);
  });
});

describe('JSON patch', () => {
  const document = { spec: { list: ['a', 'b'], 'odd/key': 1 } };

  test('add, replace, remove, move, copy and test', () => {
    const patched = applyJsonPatch(document, [
      { op: 'test', path: '/spec/list/0', value: 'a' },
      { op: 'add', path: '/spec/list/-', value: 'c' },
      { op: 'add', path: '/spec/list/0', value: 'z' },
      { op: 'replace', path: '/spec/odd~1key', value: 2 },
      { op: 'copy', from: '/spec/odd~1key', path: '/spec/copy' },
      { op: 'move', from: '/spec/copy', path: '/spec/moved' },
      { op: 'remove', path: '/spec/list/1' },
    ]);
    assert.deepEqual(patched, { spec: { list: ['z', 'b', 'c'], 'odd/key': 2, moved: 2 } });
    assert.deepEqual(document.spec.list, ['a', 'b']);
  });

  test('a failed test or a missing path is an error', () => {
    assert.throws(() => applyJsonPatch(document, [{ op: 'test', path: '/spec/list/0', value: 'x' }]), JsonPatchError);
    assert.throws(() => applyJsonPatch(document, [{ op: 'remove', path: '/spec/nope' }]), JsonPatchError);
    assert.throws(() => applyJsonPatch(document, [{ op: 'replace', path: '/spec/list/5', value: 1 }]), JsonPatchError);
  });
});

describe('strategic merge patch (built-in kinds)', () => {
  const pod: JsonObject = {
    metadata: { finalizers: ['a'], labels: { app: 'x' } },
    spec: {
      containers: [
        { name: 'main', image: 'nginx:1', ports: [{ containerPort: 80, protocol: 'TCP' }] },
        { name: 'side', image: 'busybox' },
      ],
      tolerations: [{ key: 'a' }],
    },
  };

  test('merges containers by name and keeps unmentioned fields', () => {
    const patched = applyStrategicMergePatch(pod, { spec: { containers: [{ name: 'main', image: 'nginx:2' }] } }) as JsonObject;
    const containers = (patched.spec as JsonObject).containers as JsonObject[];
    assert.equal(containers.length, 2);
    assert.deepEqual(containers[0], { name: 'main', image: 'nginx:2', ports: [{ containerPort: 80, protocol: 'TCP' }] });
  });

  test('honours $patch: delete, $setElementOrder and replaces lists without a merge key', () => {
    const patched = applyStrategicMergePatch(pod, {
      spec: {
        '$setElementOrder/containers': [{ name: 'side' }, { name: 'new' }],
        containers: [
          { name: 'main', $patch: 'delete' },
          { name: 'new', image: 'alpine' },
        ],
        tolerations: [{ key: 'b' }],
      },
    }) as JsonObject;
    const spec = patched.spec as JsonObject;
    assert.deepEqual(
      (spec.containers as JsonObject[]).map((container) => container.name),
      ['side', 'new'],
    );
    assert.deepEqual(spec.tolerations, [{ key: 'b' }]);
  });

  test('merges finalizers as a set and deletes from primitive lists', () => {
    const added = applyStrategicMergePatch(pod, { metadata: { finalizers: ['a', 'b'] } }) as JsonObject;
    assert.deepEqual((added.metadata as JsonObject).finalizers, ['a', 'b']);
    const removed = applyStrategicMergePatch(added, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as JsonObject;
    assert.deepEqual((removed.metadata as JsonObject).finalizers, ['b']);
  });
});

describe('patch content types', () => {
  test('maps media types and refuses apply and strategic patches where the real server does', () => {
    assert.equal(patchTypeOf('application/merge-patch+json; charset=utf-8', false), 'merge');
    assert.equal(patchTypeOf('application/json-patch+json', false), 'json');
    assert.equal(patchTypeOf('application/strategic-merge-patch+json', true), 'strategic');
    for (const [contentType, builtin] of [
      ['application/strategic-merge-patch+json', false],
      ['application/apply-patch+yaml', true],
      ['application/json', true],
    ] as const) {
      assert.throws(
        () => patchTypeOf(contentType, builtin),
        (error: unknown) => error instanceof ApiError && error.httpStatus === 415,
      );
    }
  });
});
