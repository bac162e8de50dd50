/** Tiny builders for structural OpenAPI v3 schemas, so the CRD source reads like the API. */
export type Schema = Record<string, unknown>;

export const str = (extra: Schema = {}): Schema => ({ type: 'string', ...extra });
export const bool = (extra: Schema = {}): Schema => ({ type: 'boolean', ...extra });
export const int = (extra: Schema = {}): Schema => ({ type: 'integer', format: 'int32', ...extra });
export const list = (items: Schema, extra: Schema = {}): Schema => ({ type: 'array', items, ...extra });
export const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({ type: 'object', properties, ...extra });
export const rule = (expression: string, message: string): { rule: string; message: string } => ({ rule: expression, message });

import { IPV4_TEXT as v4, IPV6_TEXT as v6, PREFIX_TEXT } from '../ip.js';
import { LABEL_VALUE, QUALIFIED_NAME, QUALIFIED_NAME_MAX, QUALIFIED_NAME_PREFIX_MAX, SELECTOR_MAX_TERMS } from '../names.js';

const p4 = PREFIX_TEXT[4];
const p6 = PREFIX_TEXT[6];

const IPV4 = `^${v4}$`;
const IPV6 = `^${v6}$`;
/** Explicit EIP fields accept "" as unset, as spidernet manifests often carry it. */
const OPTIONAL_IPV4 = `^(${v4})?$`;
const OPTIONAL_IPV6 = `^(${v6})?$`;
/** A single address, `a-b` range or CIDR of one family. */
export const IPV4_SPEC = `^${v4}(/${p4}|-${v4})?$`;
export const IPV6_SPEC = `^${v6}(/${p6}|-${v6})?$`;
/** Either family. */
const IP_SPEC = `^(${v4}(/${p4}|-${v4})?|${v6}(/${p6}|-${v6})?)$`;
const CIDR = `^(${v4}/${p4}|${v6}/${p6})$`;
/** An address or a CIDR (no range), of one family. */
export const IPV4_OR_CIDR = `^${v4}(/${p4})?$`;
export const IPV6_OR_CIDR = `^${v6}(/${p6})?$`;

/** Longest text of each form: IPv6 in eight full groups is 39 characters. */
const IP_MAX = 39;
const CIDR_MAX = IP_MAX + 4;
const IP_SPEC_MAX = 2 * IP_MAX + 1;

/*
 * The patterns above fix the characters and the shape; CEL rules (Kubernetes' IP and CIDR
 * libraries, Kubernetes 1.31 or newer) check what a pattern cannot: that IPv6 text is an address
 * and not IPv4-mapped, that a CIDR has no host bits, that a range does not run backwards. Every
 * rule guards the ones before it, so a value gets one message. Costs stay small because every
 * string they read has a maxLength and every list a maxItems.
 */
const A = "self.split('-')[0]";
const B = "self.split('-')[1]";
const v4Number = (x: string) => [0, 1, 2, 3].map((i) => `int(${x}.split('.')[${i}]) * ${2 ** (8 * (3 - i))}`).join(' + ');
const BITS = [...Array(128).keys()].join(', ');
/**
 * a <= b for two valid IPv6 addresses: equal, or at the first bit where they differ (the first n
 * where b/n holds a but b/(n+1) does not) a has a 0.
 */
const v6Ordered = (a: string, b: string) =>
  `(ip(${a}) == ip(${b}) || [${BITS}].exists(n, cidr(${b} + '/' + string(n)).containsIP(${a}) && ` +
  `!cidr(${b} + '/' + string(n + 1)).containsIP(${a}) && cidr(${a} + '/' + string(n + 1)).masked().ip() == cidr(${a} + '/' + string(n)).masked().ip()))`;
const ordered = (family: 4 | 6, a: string, b: string) => (family === 4 ? `${v4Number(a)} <= ${v4Number(b)}` : v6Ordered(a, b));

/** CEL: `spec` (an address, a-b range or CIDR of `family`, maybe invalid) holds the valid address `ip`. */
function specHolds(family: 4 | 6, spec: string, ip: string): string {
  const a = `${spec}.split('-')[0]`;
  const b = `${spec}.split('-')[1]`;
  const single = family === 4 ? `${spec} == ${ip}` : `isIP(${spec}) && ip(${spec}) == ip(${ip})`;
  return (
    `(${spec}.contains('/') ? isCIDR(${spec}) && cidr(${spec}).containsIP(${ip}) : ` +
    `${spec}.contains('-') ? isIP(${a}) && isIP(${b}) && ${ordered(family, a, ip)} && ${ordered(family, ip, b)} : ${single})`
  );
}

/** A rule on an ippools object: its default EIP of `family`, when set, lies inside its pool. */
export function defaultEipInPool(family: 4 | 6): { rule: string; message: string; fieldPath: string } {
  const eip = `self.ipv${family}DefaultEIP`;
  const pool = `self.ipv${family}`;
  return {
    rule: `!has(${eip}) || ${eip} == '' || !isIP(${eip}) || (has(${pool}) && ${pool}.exists(p, ${specHolds(family, 'p', eip)}))`,
    message: `ipv${family}DefaultEIP must lie inside ipv${family}`,
    fieldPath: `.ipv${family}DefaultEIP`,
  };
}

const IPV6_VALID_RULE = rule("self == '' || isIP(self)", 'must be an IPv6 address (IPv4-mapped addresses are not accepted)');

/** Rules for a string that the pattern already limits to an address, `a-b` range or CIDR (either family). */
function ipSpecRules(forms: { ranges: boolean } = { ranges: true }): { rule: string; message: string }[] {
  const rules = [
    rule(
      `!self.contains(':') || (self.contains('/') ? isCIDR(self) : self.contains('-') ? isIP(${A}) && isIP(${B}) : isIP(self))`,
      'must be a valid IPv6 address, range or CIDR (IPv4-mapped addresses are not accepted)',
    ),
    rule("!self.contains('/') || !isCIDR(self) || cidr(self) == cidr(self).masked()", 'must not have host bits set (write the network address, e.g. 10.0.0.0/8)'),
  ];
  if (forms.ranges) {
    rules.push(rule(`!self.contains('-') || !isIP(${A}) || !isIP(${B}) || (self.contains(':') ? ${ordered(6, A, B)} : ${ordered(4, A, B)})`, 'must not start after it ends'));
  }
  return rules;
}

/** An address, range or CIDR of either family (or of one, with `pattern`). */
export const ipSpec = (pattern = IP_SPEC, extra: Schema = {}): Schema => str({ pattern, maxLength: IP_SPEC_MAX, 'x-kubernetes-validations': ipSpecRules(), ...extra });
/** A CIDR or a single address, never a range. */
export const ipOrCidr = (pattern: string): Schema => str({ pattern, maxLength: CIDR_MAX, 'x-kubernetes-validations': ipSpecRules({ ranges: false }) });
export const cidr = (extra: Schema = {}): Schema => str({ pattern: CIDR, maxLength: CIDR_MAX, 'x-kubernetes-validations': ipSpecRules({ ranges: false }), ...extra });
export const ipv4 = (extra: Schema = {}): Schema => str({ pattern: IPV4, ...extra });
export const ipv6 = (extra: Schema = {}): Schema => str({ pattern: IPV6, maxLength: IP_MAX, 'x-kubernetes-validations': [IPV6_VALID_RULE], ...extra });
/** "" means unset. */
export const optionalIpv4 = (extra: Schema = {}): Schema => str({ pattern: OPTIONAL_IPV4, ...extra });
export const optionalIpv6 = (extra: Schema = {}): Schema => str({ pattern: OPTIONAL_IPV6, maxLength: IP_MAX, 'x-kubernetes-validations': [IPV6_VALID_RULE], ...extra });

const labelKeyRule = (key: string) => `${key}.matches('^${QUALIFIED_NAME.replace(/\\/g, '\\\\')}$') && ${key}.indexOf('/') <= ${QUALIFIED_NAME_PREFIX_MAX}`;
const LABEL_KEY_MESSAGE =
  'label keys are an optional DNS subdomain prefix (at most 253 characters) and "/", then at most 63 alphanumerics, "-", "_" or ".", alphanumeric at both ends';
const labelValue = (): Schema => str({ maxLength: 63, pattern: `^${LABEL_VALUE}$` });

export const labelSelector = (): Schema =>
  obj(
    {
      matchLabels: {
        type: 'object',
        additionalProperties: labelValue(),
        maxProperties: SELECTOR_MAX_TERMS,
        'x-kubernetes-validations': [rule(`self.all(k, ${labelKeyRule('k')})`, LABEL_KEY_MESSAGE)],
      },
      matchExpressions: list(
        obj(
          {
            key: str({ maxLength: QUALIFIED_NAME_MAX, 'x-kubernetes-validations': [rule(labelKeyRule('self'), LABEL_KEY_MESSAGE)] }),
            operator: str({ enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }),
            values: list(labelValue()),
          },
          {
            required: ['key', 'operator'],
            'x-kubernetes-validations': [
              rule("self.operator in ['Exists', 'DoesNotExist'] || (has(self.values) && size(self.values) > 0)", 'values must not be empty for In and NotIn'),
              rule("self.operator in ['In', 'NotIn'] || !has(self.values) || size(self.values) == 0", 'values must be empty for Exists and DoesNotExist'),
            ],
          },
        ),
        { maxItems: SELECTOR_MAX_TERMS },
      ),
    },
    { 'x-kubernetes-map-type': 'atomic' },
  );

const condition = (): Schema =>
  obj(
    {
      type: str({ maxLength: 316 }),
      status: str({ enum: ['True', 'False', 'Unknown'] }),
      reason: str({ maxLength: 1024 }),
      message: str({ maxLength: 32768 }),
      observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
      lastTransitionTime: str({ format: 'date-time' }),
    },
    { required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'] },
  );

export const conditions = (): Schema => list(condition(), { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });
