import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './api-error.js';
import { fieldsMatch, parseFieldSelector } from './field-selector.js';

const pod = {
  metadata: { name: 'visitor-1', namespace: 'default' },
  spec: { nodeName: 'node1', hostNetwork: false },
  status: { phase: 'Running' },
};
const podFields = ['spec.nodeName', 'status.phase', 'spec.hostNetwork'];

describe('field selectors', () => {
  const cases: Array<[string, boolean]> = [
    ['metadata.name=visitor-1', true],
    ['metadata.name==visitor-1', true],
    ['metadata.name=other', false],
    ['metadata.namespace=default,spec.nodeName=node1', true],
    ['spec.nodeName!=node1', false],
    ['spec.nodeName!=node2', true],
    ['status.phase=Running', true],
    ['spec.hostNetwork=false', true],
  ];
  for (const [selector, expected] of cases) {
    test(`"${selector}" ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(fieldsMatch(parseFieldSelector(selector, podFields), pod), expected);
    });
  }

  test('a missing field compares as the empty string', () => {
    assert.equal(fieldsMatch(parseFieldSelector('spec.nodeName=', podFields), { metadata: { name: 'x' } }), true);
  });

  test('unsupported fields are refused like the real server', () => {
    assert.throws(
      () => parseFieldSelector('spec.containers=x', podFields),
      (error: unknown) => error instanceof ApiError && error.httpStatus === 400 && error.message === 'field label not supported: spec.containers',
    );
  });
});
