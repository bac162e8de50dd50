import { hostPrefix, type AddressOp } from './address-ops.js';

export function addressCommand(op: AddressOp, tag: number): string {
  const a = op.address;
  if (op.kind === 'del') return `addr del ${a.ip}/${op.address.prefixlen} dev ${a.ifname}`;
  const v6 = a.family === 6 ? ' nodad noprefixroute' : '';
  return `addr add ${a.ip}/${hostPrefix(a.family)} dev ${a.ifname} metric ${tag}${v6}`;
}
