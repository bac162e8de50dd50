import type { DiffLine } from '../diff-line.js';
import type { LinkOp } from './link-ops.js';

export function describeLinkOp(op: LinkOp): DiffLine {
  const line = (change: DiffLine['change'], text: string): DiffLine => ({ subsystem: 'link', change, text: `${change} ${text}` });
  switch (op.kind) {
    case 'create': {
      const l = op.link;
      return line('missing', `link ${l.device} vxlan id ${l.vni} dstport ${l.port} local ${l.localIp} dev ${l.parent} mtu ${l.mtu} address ${l.mac}`);
    }
    case 'delete':
      return op.reason ? line('changed', `link ${op.device}: ${op.reason} (recreated)`) : line('extra', `link ${op.device}`);
    case 'modify': {
      const want = [op.mtu !== undefined ? `mtu ${op.mtu}` : '', op.mac ? `address ${op.mac}` : '', op.up ? 'up' : ''].filter(Boolean).join(' ');
      return line('changed', `link ${op.device}: ${op.was}, want ${want}`);
    }
    case 'addr-add':
      return line('missing', `address ${op.cidr} on ${op.device}`);
    case 'addr-del':
      return line('extra', `address ${op.cidr} on ${op.device}`);
    case 'neigh-set':
      return op.was
        ? line('changed', `neighbour ${op.ip} on ${op.device}: ${op.was}, want ${op.mac} permanent`)
        : line('missing', `neighbour ${op.ip} lladdr ${op.mac} on ${op.device}`);
    case 'neigh-del':
      return line('extra', `neighbour ${op.ip}${op.mac ? ` lladdr ${op.mac}` : ''} on ${op.device}`);
    case 'fdb-add':
      return line('missing', `fdb ${op.mac} dst ${op.dst} on ${op.device}`);
    case 'fdb-del':
      return line('extra', `fdb ${op.mac} dst ${op.dst} on ${op.device}`);
  }
}
