import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labelSelectorQuery } from './selector-query.js';

test('label selectors become labelSelector query strings', () => {
  assert.equal(labelSelectorQuery({}), '');
  assert.equal(labelSelectorQuery({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
  assert.equal(
    labelSelectorQuery({
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['b', 'a'] },
        { key: 'x', operator: 'NotIn', values: ['y'] },
        { key: 'egress', operator: 'Exists' },
        { key: 'drain', operator: 'DoesNotExist' },
      ],
    }),
    'zone in (a,b),x notin (y),egress,!drain',
  );
});
