import { isIp, type Family } from '../../api/ip.js';
import { isInterfaceName } from '../../api/names.js';
import { EgressError } from '../../errors.js';
import { canonicalPrefix } from './ip-text.js';

/**
 * Checks for plan values that end up as words of an `ip`/`bridge` batch line. Some come from
 * cluster objects (a tunnel's MAC), so a value with spaces or a newline must never reach a batch,
 * where it would read as further arguments or another command.
 */
function reject(what: string, value: unknown): never {
  throw new EgressError('EGW_ERR_PLAN', `${what} ${JSON.stringify(value)} is not usable in a kernel command`);
}

export function ifnameToken(name: string, what = 'interface name'): string {
  return isInterfaceName(name) ? name : reject(what, name);
}

export function macToken(mac: string, what = 'MAC address'): string {
  const lower = mac.toLowerCase();
  return /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(lower) ? lower : reject(what, mac);
}

export function intToken(n: number, min: number, max: number, what: string): number {
  return Number.isInteger(n) && n >= min && n <= max ? n : reject(what, n);
}

/** `default` or a canonical `addr/len` of the given family. */
export function prefixToken(text: string, family: Family, what = 'prefix'): string {
  if (text === 'default') return text;
  const [addr, len, extra] = text.split('/');
  const bits = family === 4 ? 32 : 128;
  if (addr === undefined || extra !== undefined || (len !== undefined && (!/^\d{1,3}$/.test(len) || Number(len) > bits)) || !isIp(addr, family)) {
    return reject(what, text);
  }
  return canonicalPrefix(text, family);
}
