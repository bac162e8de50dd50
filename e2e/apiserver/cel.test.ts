import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { evaluateCel } from './cel-eval.js';
import { CelSyntaxError, parseCel } from './cel-parser.js';
import { evaluateValidationRules } from './cel-rules.js';
import { CelRuntimeError, CelUnsupportedError } from './cel-values.js';
import { fieldErrorString } from './field-error.js';
import type { SchemaProps } from './schema-types.js';

function run(expression: string, self: unknown, oldSelf?: unknown): unknown {
  const scope = new Map<string, unknown>([['self', self]]);
  if (oldSelf !== undefined) scope.set('oldSelf', oldSelf);
  return evaluateCel(parseCel(expression), scope);
}

describe('CEL evaluation', () => {
  const self = {
    useNodeIP: true,
    ipv4: '198.18.0.10',
    name: 'gw-1',
    list: [1, 2, 3],
    subnets: ['10.0.0.0/8', 'fd00::/64'],
    labels: { app: 'x' },
    empty: '',
    count: 7,
  };
  const cases: Array<[string, unknown]> = [
    ['has(self.ipv4)', true],
    ['!has(self.ipv6)', true],
    ['has(self.useNodeIP) && self.useNodeIP', true],
    ['self.useNodeIP == true', true],
    ['!(has(self.useNodeIP) && self.useNodeIP) || (!has(self.ipv4) && !has(self.ipv6))', false],
    ["self.ipv4 != ''", true],
    ['size(self.list) <= 3', true],
    ['self.list.size() == 3 && size(self.name) == 4', true],
    ["has(self.ipv6) ? self.ipv6 != '' : true", true],
    ['self.count > 5 && self.count % 2 == 1 && self.count / 2 == 3', true],
    ["self.name.startsWith('gw-') && self.name.endsWith('1') && self.name.contains('-')", true],
    ["self.name.matches('^[a-z]+-[0-9]$')", true],
    ['self.list.all(x, x > 0)', true],
    ['self.list.exists(x, x == 2)', true],
    ['self.list.exists_one(x, x > 2)', true],
    ['self.list.map(x, x * 2) == [2, 4, 6]', true],
    ['self.list.filter(x, x > 1).size() == 2', true],
    ["'app' in self.labels && 2 in self.list", true],
    ["self.labels['app'] == 'x'", true],
    ['self.subnets.all(s, isCIDR(s))', true],
    ["isIP(self.ipv4) && ip(self.ipv4).family() == 4 && !isIP('300.1.1.1')", true],
    ["cidr('10.0.0.0/8').containsIP(self.ipv4) == false && cidr('198.18.0.0/15').containsIP(ip(self.ipv4))", true],
    ['self.missing == 1 || true', true],
    ['false && self.missing == 1', false],
    ["{'a': 1}.a == 1 && [1, 2] + [3] == self.list", true],
    ["'ab' + 'c' == 'abc' && -self.count == -7", true],
    ['self.name.size() > 10 ? false : true', true],
  ];
  for (const [expression, expected] of cases) {
    test(expression, () => assert.deepEqual(run(expression, self), expected));
  }

  test('runtime errors: missing keys, bad indexes, no such overload', () => {
    assert.throws(() => run('self.missing == 1', self), /no such key: missing/);
    assert.throws(() => run('self.list[5] == 1', self), CelRuntimeError);
    assert.throws(() => run("self.count + 'a' == 'b'", self), /no such overload/);
    assert.throws(() => run('self.missing == 1 && true', self), CelRuntimeError);
  });

  test('transition rules see oldSelf', () => {
    assert.equal(run('self == oldSelf', 'a', 'a'), true);
    assert.equal(run('self == oldSelf', 'a', 'b'), false);
  });

  test('unsupported syntax and functions are reported as such, not as failures', () => {
    assert.throws(() => parseCel('self.?x.orValue(1)'), CelSyntaxError);
    assert.throws(() => run("quantity('1Gi').isGreaterThan(quantity('1Mi'))", self), CelUnsupportedError);
  });
});

describe('x-kubernetes-validations', () => {
  const schema: SchemaProps = {
    type: 'object',
    'x-kubernetes-validations': [{ rule: "self.metadata.name != 'forbidden'", message: 'that name is reserved' }],
    properties: {
      metadata: { type: 'object' },
      spec: {
        type: 'object',
        properties: {
          egressIP: {
            type: 'object',
            properties: { useNodeIP: { type: 'boolean' }, ipv4: { type: 'string' } },
            'x-kubernetes-validations': [{ rule: '!(has(self.useNodeIP) && self.useNodeIP) || !has(self.ipv4)', message: 'useNodeIP cannot be combined with ipv4' }],
          },
          gateway: {
            type: 'string',
            'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'gateway is immutable' }, { rule: 'self.size() < 20' }, { rule: 'self.?weird.orValue(true)' }],
          },
          ports: {
            type: 'array',
            items: { type: 'integer' },
            'x-kubernetes-validations': [{ rule: 'self.all(p, p > 0)', messageExpression: "'ports must be positive, got ' + string(self.size()) + ' ports'" }],
          },
          mode: {
            type: 'object',
            properties: { kind: { type: 'string' } },
            'x-kubernetes-validations': [{ rule: "self.kind == 'a'", reason: 'FieldValueForbidden', fieldPath: '.kind' }],
          },
        },
      },
    },
  };
  const check = (object: unknown, old?: unknown, skipped: string[] = []) =>
    evaluateValidationRules(object as never, old as never, schema, (rule) => skipped.push(rule)).map(fieldErrorString);

  test('rules pass on a valid object; unsupported rules are skipped and reported once', () => {
    const skipped: string[] = [];
    assert.deepEqual(check({ metadata: { name: 'ok' }, spec: { gateway: 'gw' } }, undefined, skipped), []);
    assert.deepEqual(check({ metadata: { name: 'ok' }, spec: { gateway: 'gw' } }, undefined, skipped), []);
    assert.deepEqual(skipped, ['self.?weird.orValue(true)']);
  });

  test('failures carry the real server wording, field paths and reasons', () => {
    const errors = check({
      metadata: { name: 'forbidden' },
      spec: { egressIP: { useNodeIP: true, ipv4: '198.18.0.1' }, gateway: 'a-very-long-gateway-name', ports: [1, -1], mode: { kind: 'b' } },
    });
    assert.deepEqual(errors, [
      '<nil>: Invalid value: "object": that name is reserved',
      'spec.egressIP: Invalid value: "object": useNodeIP cannot be combined with ipv4',
      'spec.gateway: Invalid value: "string": failed rule: self.size() < 20',
      'spec.ports: Invalid value: "array": ports must be positive, got 2 ports',
      "spec.mode.kind: Forbidden: failed rule: self.kind == 'a'",
    ]);
  });

  test('transition rules run only on update', () => {
    const object = { metadata: { name: 'ok' }, spec: { gateway: 'new' } };
    assert.deepEqual(check(object), []);
    assert.deepEqual(check(object, { metadata: { name: 'ok' }, spec: { gateway: 'old' } }), ['spec.gateway: Invalid value: "string": gateway is immutable']);
  });

  test('a runtime error becomes an Invalid error naming the rule', () => {
    const missing: SchemaProps = { type: 'object', properties: { spec: { type: 'object', 'x-kubernetes-validations': [{ rule: 'self.x == 1' }] } } };
    const errors = evaluateValidationRules({ spec: {} }, undefined, missing, () => undefined).map(fieldErrorString);
    assert.deepEqual(errors, ['spec: Invalid value: "object": no such key: x evaluating rule: self.x == 1']);
  });
});
