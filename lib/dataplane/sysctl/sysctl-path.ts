import { join } from 'node:path';
import { EgressError } from '../../errors.js';

export const PROC_SYS = '/proc/sys';

/**
 * Maps a dotted key to its file: dots separate path components, and a `/` inside a component
 * stands for a literal dot (a device name), so `net.ipv4.conf.egress/vxlan.rp_filter` is
 * `net/ipv4/conf/egress.vxlan/rp_filter`. Components that would climb out of root are refused.
 */
export function sysctlPath(key: string, root: string = PROC_SYS): string {
  const parts = key.split('.').map((p) => p.replaceAll('/', '.'));
  if (parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\0'))) {
    throw new EgressError('EGW_ERR_SYSCTL', `"${key}" is not a valid sysctl key`);
  }
  return join(root, ...parts);
}

/** Values compare equal when they differ only in whitespace (multi-value keys use tabs). */
export function sameSysctlValue(a: string, b: string): boolean {
  return a.trim().split(/\s+/).join(' ') === b.trim().split(/\s+/).join(' ');
}
