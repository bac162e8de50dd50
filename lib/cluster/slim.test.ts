import { test } from 'node:test';
import assert from 'node:assert/strict';
import { slimObject } from './slim.js';
import { parseDocument } from '../api/parse-document.js';
import { node, pod } from '../planner/testing/cluster.js';

test('slimmed Pods and Nodes parse to the same model and drop the bulk', () => {
  const fatPod = { ...pod('default', 'p', 'n1', ['10.244.1.2'], { app: 'a' }), spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x'.repeat(5000) }] } };
  const fatNode = { ...node('n1', 1), status: { ...(node('n1', 1).status as object), images: [{ names: ['y'.repeat(5000)] }] } };
  for (const [kind, fat] of [
    ['Pod', fatPod],
    ['Node', fatNode],
  ] as const) {
    const slim = slimObject(kind, fat);
    assert.deepEqual(parseDocument(slim).object, parseDocument(fat).object);
    assert.ok(JSON.stringify(slim).length < 1000, `${kind} slimmed`);
  }
});
