import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fieldErrorString } from './field-error.js';
import type { JsonObject } from './json.js';
import { applyDefaults, pruneUnknownFields } from './schema-prune-default.js';
import type { SchemaProps } from './schema-types.js';
import { validateAgainstSchema } from './schema-validate.js';

const schema: SchemaProps = {
  type: 'object',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      required: ['gateway'],
      properties: {
        gateway: { type: 'string', minLength: 1, maxLength: 10, pattern: '^[a-z-]+$' },
        mode: { type: 'string', enum: ['default', 'rr'], default: 'default' },
        priority: { type: 'integer', minimum: -10, maximum: 10, default: 0 },
        ratio: { type: 'number', exclusiveMaximum: true, maximum: 1 },
        port: { 'x-kubernetes-int-or-string': true },
        ipv4: { type: 'string', format: 'ipv4' },
        ipv6: { type: 'string', format: 'ipv6' },
        subnets: { type: 'array', maxItems: 2, items: { type: 'string', format: 'cidr' } },
        tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        nullable: { type: 'string', nullable: true },
        nested: { type: 'object', properties: { enabled: { type: 'boolean', default: true } } },
      },
    },
  },
};

function messages(object: JsonObject): string[] {
  return validateAgainstSchema(object, schema).map(fieldErrorString);
}

describe('pruning and defaulting', () => {
  test('reports and prunes unknown fields, keeping preserved and implicit ones', () => {
    const object: JsonObject = {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a', labels: { keep: 'me' } },
      spec: { gateway: 'gw', bogus: 1, extra: { anything: { goes: true } }, subnets: ['10.0.0.0/8'], labels: { a: 'b' } },
      unknownTop: true,
    };
    assert.deepEqual(pruneUnknownFields(object, schema).sort(), ['spec.bogus', 'unknownTop']);
    assert.deepEqual(object, {
      apiVersion: 'x/v1',
      kind: 'X',
      metadata: { name: 'a', labels: { keep: 'me' } },
      spec: { gateway: 'gw', extra: { anything: { goes: true } }, subnets: ['10.0.0.0/8'], labels: { a: 'b' } },
    });
  });

  test('reports unknown fields inside list items with their index', () => {
    const listSchema: SchemaProps = {
      type: 'object',
      properties: { items: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } } },
    };
    assert.deepEqual(pruneUnknownFields({ items: [{ name: 'a' }, { name: 'b', typo: 1 }] }, listSchema), ['items[1].typo']);
  });

  test('applies defaults, including inside defaulted parents, and drops non-nullable nulls', () => {
    const object: JsonObject = { spec: { gateway: 'gw', priority: null, nullable: null, nested: {} } };
    applyDefaults(object, schema);
    assert.deepEqual(object.spec, { gateway: 'gw', priority: 0, nullable: null, nested: { enabled: true }, mode: 'default' });
  });
});

describe('value validation messages (kube-openapi wording)', () => {
  const cases: Array<[string, JsonObject, string[]]> = [
    ['a valid object', { spec: { gateway: 'gw', port: 'http', ipv4: '10.0.0.1', ipv6: 'fd00::1', subnets: ['fd00::/64'] } }, []],
    ['a missing required field', { spec: {} }, ['spec.gateway: Required value']],
    ['a missing root field', {}, ['spec: Required value']],
    ['a wrong type', { spec: { gateway: 'gw', priority: 'high' } }, ['spec.priority: Invalid value: "string": spec.priority in body must be of type integer: "string"']],
    ['a float for an integer', { spec: { gateway: 'gw', priority: 1.5 } }, ['spec.priority: Invalid value: "number": spec.priority in body must be of type integer: "number"']],
    ['a value outside the enum', { spec: { gateway: 'gw', mode: 'random' } }, ['spec.mode: Unsupported value: "random": supported values: "default", "rr"']],
    [
      'numbers out of range',
      { spec: { gateway: 'gw', priority: 11, ratio: 1 } },
      ['spec.priority: Invalid value: 11: spec.priority in body should be less than or equal to 10', 'spec.ratio: Invalid value: 1: spec.ratio in body should be less than 1'],
    ],
    [
      'string length and pattern',
      { spec: { gateway: 'Gateway-Name-Too-Long' } },
      ['spec.gateway: Too long: may not be longer than 10', 'spec.gateway: Invalid value: "Gateway-Name-Too-Long": spec.gateway in body should match \'^[a-z-]+$\''],
    ],
    [
      'formats',
      { spec: { gateway: 'gw', ipv4: '10.0.0.300', ipv6: '10.0.0.1', subnets: ['10.0.0.0/33'] } },
      [
        'spec.ipv4: Invalid value: "10.0.0.300": spec.ipv4 in body must be of type ipv4: "10.0.0.300"',
        'spec.ipv6: Invalid value: "10.0.0.1": spec.ipv6 in body must be of type ipv6: "10.0.0.1"',
        'spec.subnets[0]: Invalid value: "10.0.0.0/33": spec.subnets[0] in body must be of type cidr: "10.0.0.0/33"',
      ],
    ],
    ['too many items', { spec: { gateway: 'gw', subnets: ['10.0.0.0/8', '10.1.0.0/16', '10.2.0.0/16'] } }, ['spec.subnets: Too many: 3: must have at most 2 items']],
    ['duplicates in a set', { spec: { gateway: 'gw', tags: ['a', 'b', 'a'] } }, ['spec.tags[2]: Duplicate value: "a"']],
    ['int-or-string', { spec: { gateway: 'gw', port: true } }, ['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']],
    [
      'additionalProperties values',
      { spec: { gateway: 'gw', labels: { a: 1 } } },
      ['spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"'],
    ],
    ['a null for a nullable field', { spec: { gateway: 'gw', nullable: null } }, []],
  ];
  for (const [name, object, expected] of cases) {
    test(name, () => assert.deepEqual(messages(object), expected));
  }
});
