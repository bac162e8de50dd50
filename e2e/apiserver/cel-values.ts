/** Runtime values and errors shared by the CEL evaluator and its function library. */
import ipaddr from 'ipaddr.js';
import { isJsonObject } from './json.js';

/** A runtime failure CEL itself reports (no such key, bad index, no such overload...). */
export class CelRuntimeError extends Error {
  readonly code = 'APISRV_ERR_CEL_RUNTIME';
}

/** Something this evaluator does not implement; the rule is skipped rather than guessed. */
export class CelUnsupportedError extends Error {
  readonly code = 'APISRV_ERR_CEL_UNSUPPORTED';
}

export class CelIp {
  constructor(readonly address: ipaddr.IPv4 | ipaddr.IPv6) {}
  toString(): string {
    return this.address.toString();
  }
}

export class CelCidr {
  constructor(
    readonly address: ipaddr.IPv4 | ipaddr.IPv6,
    readonly prefixLength: number,
  ) {}
  toString(): string {
    return `${this.address.toString()}/${this.prefixLength}`;
  }
}

export type CelMap = Record<string, unknown>;

export function isCelMap(value: unknown): value is CelMap {
  return isJsonObject(value);
}

export function noOverload(name: string): CelRuntimeError {
  return new CelRuntimeError(`no such overload: ${name}`);
}

export function celEquals(a: unknown, b: unknown): boolean {
  if (a instanceof CelIp || a instanceof CelCidr) return (b instanceof CelIp || b instanceof CelCidr) && a.toString() === b.toString();
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, index) => celEquals(item, b[index]));
  if (isCelMap(a)) {
    if (!isCelMap(b)) return false;
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && celEquals(a[key], b[key]));
  }
  return a === b;
}

export function celTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null_type';
  if (Array.isArray(value)) return 'list';
  if (value instanceof CelIp) return 'net.IP';
  if (value instanceof CelCidr) return 'net.CIDR';
  if (isCelMap(value)) return 'map';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}
