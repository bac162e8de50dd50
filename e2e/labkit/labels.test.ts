import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLabels } from './labels.js';

test('labels parse from k=v pairs', () => {
  assert.deepEqual(parseLabels('app=web,tier=front'), { app: 'web', tier: 'front' });
  assert.deepEqual(parseLabels('example.com/egress=yes,empty='), { 'example.com/egress': 'yes', empty: '' });
  assert.deepEqual(parseLabels(''), {});
});

test('malformed labels are refused', () => {
  for (const bad of ['novalue', '=x', 'a=b c']) assert.throws(() => parseLabels(bad), /not key=value/, bad);
});
