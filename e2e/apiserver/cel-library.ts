/** The CEL functions the evaluator knows: the standard ones CRD rules use plus the Kubernetes IP/CIDR library. */
import ipaddr from 'ipaddr.js';
import { is4In6, parseAddr, parsePrefix } from './netip.js';
import { CelCidr, CelIp, CelRuntimeError, CelUnsupportedError, celEquals, celTypeName, isCelMap, noOverload } from './cel-values.js';

const regexCache = new Map<string, RegExp>();

function compileRegex(pattern: string): RegExp {
  let regex = regexCache.get(pattern);
  if (!regex) {
    try {
      regex = new RegExp(pattern, 'u');
    } catch {
      throw new CelUnsupportedError(`regular expression not supported here: ${pattern}`);
    }
    regexCache.set(pattern, regex);
  }
  return regex;
}

/** As the Kubernetes IP library: netip.ParseAddr, without zones or IPv4-mapped IPv6 addresses. */
function parseIp(text: string): CelIp | undefined {
  const parsed = parseAddr(text);
  if ('error' in parsed || parsed.ok.zone !== '' || is4In6(parsed.ok.bytes)) return undefined;
  return new CelIp(ipaddr.fromByteArray(parsed.ok.bytes));
}

/** As the Kubernetes CIDR library: netip.ParsePrefix, without IPv4-mapped IPv6 addresses. */
function parseCidr(text: string): CelCidr | undefined {
  const parsed = parsePrefix(text);
  if ('error' in parsed || is4In6(parsed.ok.addr.bytes)) return undefined;
  return new CelCidr(ipaddr.fromByteArray(parsed.ok.addr.bytes), parsed.ok.bits);
}

function maskedBytes(bytes: readonly number[], bits: number): number[] {
  return bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
}

function expectString(value: unknown, name: string): string {
  if (typeof value !== 'string') throw noOverload(name);
  return value;
}

function expectInt(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw noOverload(name);
  return value;
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string') return [...value].length;
  if (Array.isArray(value)) return value.length;
  if (isCelMap(value)) return Object.keys(value).length;
  throw noOverload('size');
}

function toStringValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof CelIp || value instanceof CelCidr) return value.toString();
  throw noOverload('string');
}

function toInt(value: unknown): number {
  if (typeof value === 'number') return Math.trunc(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  throw new CelRuntimeError(`cannot convert ${celTypeName(value)} to int`);
}

function ipOf(value: unknown, name: string): CelIp {
  if (value instanceof CelIp) return value;
  const parsed = parseIp(expectString(value, name));
  if (!parsed) throw new CelRuntimeError(`IP Address '${String(value)}' parse error during conversion from string`);
  return parsed;
}

function cidrOf(value: unknown, name: string): CelCidr {
  if (value instanceof CelCidr) return value;
  const parsed = parseCidr(expectString(value, name));
  if (!parsed) throw new CelRuntimeError(`network address parse error during conversion from string: ${String(value)}`);
  return parsed;
}

function compareForSort(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw noOverload('compare');
}

type GlobalFunction = (args: unknown[]) => unknown;
type MemberFunction = (target: unknown, args: unknown[]) => unknown;

const GLOBAL_FUNCTIONS: Record<string, GlobalFunction> = {
  size: ([value]) => sizeOf(value),
  int: ([value]) => toInt(value),
  uint: ([value]) => toInt(value),
  double: ([value]) => (typeof value === 'number' ? value : Number(expectString(value, 'double'))),
  string: ([value]) => toStringValue(value),
  bool: ([value]) =>
    typeof value === 'boolean'
      ? value
      : value === 'true'
        ? true
        : value === 'false'
          ? false
          : (() => {
              throw noOverload('bool');
            })(),
  dyn: ([value]) => value,
  matches: ([text, pattern]) => compileRegex(expectString(pattern, 'matches')).test(expectString(text, 'matches')),
  isIP: ([value]) => parseIp(expectString(value, 'isIP')) !== undefined,
  ip: ([value]) => ipOf(value, 'ip'),
  isCIDR: ([value]) => parseCidr(expectString(value, 'isCIDR')) !== undefined,
  cidr: ([value]) => cidrOf(value, 'cidr'),
};

const MEMBER_FUNCTIONS: Record<string, MemberFunction> = {
  size: (target) => sizeOf(target),
  contains: (target, [part]) => expectString(target, 'contains').includes(expectString(part, 'contains')),
  startsWith: (target, [part]) => expectString(target, 'startsWith').startsWith(expectString(part, 'startsWith')),
  endsWith: (target, [part]) => expectString(target, 'endsWith').endsWith(expectString(part, 'endsWith')),
  matches: (target, [pattern]) => compileRegex(expectString(pattern, 'matches')).test(expectString(target, 'matches')),
  lowerAscii: (target) => expectString(target, 'lowerAscii').replace(/[A-Z]/g, (char) => char.toLowerCase()),
  upperAscii: (target) => expectString(target, 'upperAscii').replace(/[a-z]/g, (char) => char.toUpperCase()),
  trim: (target) => expectString(target, 'trim').trim(),
  split: (target, [separator]) => expectString(target, 'split').split(expectString(separator, 'split')),
  replace: (target, [from, to]) => expectString(target, 'replace').split(expectString(from, 'replace')).join(expectString(to, 'replace')),
  substring: (target, [start, end]) => {
    const chars = [...expectString(target, 'substring')];
    const from = expectInt(start, 'substring');
    const to = end === undefined ? chars.length : expectInt(end, 'substring');
    if (from < 0 || to > chars.length || from > to) throw new CelRuntimeError(`index out of range: ${from}`);
    return chars.slice(from, to).join('');
  },
  charAt: (target, [index]) => [...expectString(target, 'charAt')][expectInt(index, 'charAt')] ?? '',
  indexOf: (target, [needle]) => {
    if (Array.isArray(target)) return target.findIndex((item) => celEquals(item, needle));
    return [...expectString(target, 'indexOf')].join('').indexOf(expectString(needle, 'indexOf'));
  },
  lastIndexOf: (target, [needle]) => {
    if (Array.isArray(target)) {
      for (let index = target.length - 1; index >= 0; index -= 1) if (celEquals(target[index], needle)) return index;
      return -1;
    }
    return expectString(target, 'lastIndexOf').lastIndexOf(expectString(needle, 'lastIndexOf'));
  },
  join: (target, [separator]) => {
    if (!Array.isArray(target)) throw noOverload('join');
    return target.map((item) => expectString(item, 'join')).join(separator === undefined ? '' : expectString(separator, 'join'));
  },
  isSorted: (target) => {
    if (!Array.isArray(target)) throw noOverload('isSorted');
    return target.every((item, index) => index === 0 || compareForSort(target[index - 1], item) <= 0);
  },
  sum: (target) => {
    if (!Array.isArray(target)) throw noOverload('sum');
    return target.reduce((total: number, item) => total + (typeof item === 'number' ? item : Number.NaN), 0);
  },
  min: (target) => extreme(target, 'min', (a, b) => compareForSort(a, b) < 0),
  max: (target) => extreme(target, 'max', (a, b) => compareForSort(a, b) > 0),
  family: (target) => (ipOf(target, 'family').address.kind() === 'ipv4' ? 4 : 6),
  isUnspecified: (target) => ipOf(target, 'isUnspecified').address.range() === 'unspecified',
  isLoopback: (target) => ipOf(target, 'isLoopback').address.range() === 'loopback',
  isLinkLocalUnicast: (target) => ipOf(target, 'isLinkLocalUnicast').address.range() === 'linkLocal',
  isLinkLocalMulticast: (target) => {
    const address = ipOf(target, 'isLinkLocalMulticast').address;
    return address.kind() === 'ipv4' ? address.match(ipaddr.parseCIDR('224.0.0.0/24')) : address.match(ipaddr.parseCIDR('ff02::/16'));
  },
  isGlobalUnicast: (target) => ['unicast', 'private', 'uniqueLocal', 'carrierGradeNat'].includes(ipOf(target, 'isGlobalUnicast').address.range()),
  containsIP: (target, [other]) => {
    const cidr = cidrOf(target, 'containsIP');
    const ip = ipOf(other, 'containsIP');
    return ip.address.kind() === cidr.address.kind() && ip.address.match([cidr.address, cidr.prefixLength] as [ipaddr.IPv4, number]);
  },
  containsCIDR: (target, [other]) => {
    const outer = cidrOf(target, 'containsCIDR');
    const inner = cidrOf(other, 'containsCIDR');
    return (
      inner.address.kind() === outer.address.kind() && inner.prefixLength >= outer.prefixLength && inner.address.match([outer.address, outer.prefixLength] as [ipaddr.IPv4, number])
    );
  },
  prefixLength: (target) => cidrOf(target, 'prefixLength').prefixLength,
  ip: (target) => new CelIp(cidrOf(target, 'ip').address),
  masked: (target) => {
    const cidr = cidrOf(target, 'masked');
    return new CelCidr(ipaddr.fromByteArray(maskedBytes(cidr.address.toByteArray(), cidr.prefixLength)), cidr.prefixLength);
  },
  string: (target) => toStringValue(target),
};

function extreme(target: unknown, name: string, better: (a: unknown, b: unknown) => boolean): unknown {
  if (!Array.isArray(target) || target.length === 0) throw new CelRuntimeError(`${name}(list) argument must not be empty`);
  return target.reduce((best, item) => (better(item, best) ? item : best));
}

export function callFunction(name: string, target: unknown, hasTarget: boolean, args: unknown[]): unknown {
  const table = hasTarget ? MEMBER_FUNCTIONS : GLOBAL_FUNCTIONS;
  if (!Object.hasOwn(table, name)) throw new CelUnsupportedError(`function ${name}() is not supported`);
  return hasTarget ? MEMBER_FUNCTIONS[name](target, args) : GLOBAL_FUNCTIONS[name](args);
}
