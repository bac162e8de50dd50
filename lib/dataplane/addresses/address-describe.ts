import type { DiffLine } from '../diff-line.js';
import { hostPrefix, type AddressConflict, type AddressOp } from './address-ops.js';

export function describeAddressOp(op: AddressOp): DiffLine {
  const a = op.address;
  return op.kind === 'add'
    ? { subsystem: 'address', change: 'missing', text: `missing address ${a.ip}/${hostPrefix(a.family)} on ${a.ifname}` }
    : { subsystem: 'address', change: 'extra', text: `extra address ${a.ip}/${op.address.prefixlen} on ${a.ifname}` };
}

export function describeConflict(c: AddressConflict): DiffLine {
  return { subsystem: 'address', change: 'conflict', text: `conflict address ${c.reason}` };
}
