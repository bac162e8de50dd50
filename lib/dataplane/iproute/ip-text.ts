import { canonicalIp, ipFamily, type Family } from '../../api/ip.js';

/** `default`, or `addr/len` in canonical form; iproute2 prints host routes without `/32` or `/128`. */
export function canonicalPrefix(text: string, family: Family): string {
  if (text === 'default' || text === '0.0.0.0/0' || text === '::/0') return 'default';
  const [addr, len] = text.split('/');
  const bits = family === 4 ? 32 : 128;
  return `${canonicalIp(addr!)}/${len ?? bits}`;
}

export function familyOf(text: string): Family {
  return ipFamily(text.split('/')[0]!);
}

export function canonicalMac(text: string): string {
  return text.toLowerCase();
}
