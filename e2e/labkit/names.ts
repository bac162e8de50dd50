import { createHash } from 'node:crypto';

/** Lab names become directory names and show up in logs; keep them plain. */
const LAB_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function assertLabName(name: string): void {
  if (!LAB_NAME.test(name)) {
    throw new Error(`invalid lab name ${JSON.stringify(name)}: use [a-z0-9._-], at most 63 characters`);
  }
}

/**
 * Every namespace and interface of a lab starts with `sl<hash4>-`, so labs can coexist and `down`
 * can find leftovers without any state. 7 characters leave 8 for the suffix within IFNAMSIZ (15).
 */
export function labPrefix(name: string): string {
  return `sl${createHash('sha256').update(name).digest('hex').slice(0, 4)}-`;
}

/** Short suffixes: netns names double as bridge/veth port names, which are limited to 15 characters. */
export const netnsSuffix = {
  lan: 'lan',
  ext: 'ext',
  control: 'ctl',
  node: (role: 'worker' | 'gateway', index: number) => `${role === 'worker' ? 'w' : 'g'}${index}`,
  pod: (seq: number) => `p${seq}`,
} as const;

export function netnsName(prefix: string, suffix: string): string {
  const n = prefix + suffix;
  if (n.length > 15) throw new Error(`name ${n} is longer than 15 characters`);
  return n;
}

export function nodeName(role: 'worker' | 'gateway', index: number): string {
  return `${role}-${index}`;
}
