import { hostPrefix, type AddressOp } from './address-ops.js';

export function addressCommand(op: AddressOp, tag: number): string {
  const a = op.address;
  if (op.kind === 'del') return `addr del ${a.ip}/${op.address.prefixlen} dev ${a.ifname}`;
  // Deprecated (preferred_lft 0): IPv6 source selection would otherwise prefer the /128 EIP over
  // the node's /64 address (longest match is capped at the address's prefix), so the node's own
  // and its masqueraded traffic would leave with the EIP. It still receives and is SNATed to.
  const v6 = a.family === 6 ? ' nodad noprefixroute preferred_lft 0' : '';
  return `addr add ${a.ip}/${hostPrefix(a.family)} dev ${a.ifname} metric ${tag}${v6}`;
}
