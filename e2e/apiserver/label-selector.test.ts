import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './api-error.js';
import { labelsMatch, parseLabelSelector } from './label-selector.js';

const labels = { app: 'visitor', tier: 'web', 'egress.sluice.dev/gateway': 'true', replicas: '3' };

describe('label selectors', () => {
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=visitor', true],
    ['app==visitor', true],
    ['app=other', false],
    ['app!=other', true],
    ['missing!=x', true],
    ['app!=visitor', false],
    ['tier in (web, db)', true],
    ['tier in (db)', false],
    ['tier notin (db)', true],
    ['missing notin (db)', true],
    ['tier notin (web)', false],
    ['egress.sluice.dev/gateway', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['app=visitor,tier=web', true],
    ['app=visitor, tier=db', false],
    ['replicas>2', true],
    ['replicas<2', false],
    ['app=', false],
  ];
  for (const [selector, expected] of cases) {
    test(`"${selector}" ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(labelsMatch(parseLabelSelector(selector), labels), expected);
    });
  }

  test('an empty value matches a label with an empty value', () => {
    assert.equal(labelsMatch(parseLabelSelector('a='), { a: '' }), true);
  });

  test('malformed selectors are a 400 BadRequest', () => {
    assert.throws(
      () => parseLabelSelector('app in visitor'),
      (error: unknown) => error instanceof ApiError && error.httpStatus === 400,
    );
    assert.throws(() => parseLabelSelector('=x'), ApiError);
  });
});
