import { familyOf } from '../iproute/ip-text.js';
import type { BatchTool } from '../iproute/batch.js';
import type { LinkOp } from './link-ops.js';

export interface ToolCommand {
  readonly tool: BatchTool;
  /** One batch line; one line is one kernel write. */
  readonly command: string;
}

export function linkCommand(op: LinkOp): ToolCommand {
  switch (op.kind) {
    case 'create': {
      const l = op.link;
      return {
        tool: 'ip',
        command: `link add ${l.device} mtu ${l.mtu} address ${l.mac} up type vxlan id ${l.vni} dstport ${l.port} local ${l.localIp} dev ${l.parent} nolearning`,
      };
    }
    case 'delete':
      return { tool: 'ip', command: `link del ${op.device}` };
    case 'modify': {
      const parts = [...(op.mtu !== undefined ? [`mtu ${op.mtu}`] : []), ...(op.mac !== undefined ? [`address ${op.mac}`] : []), ...(op.up ? ['up'] : [])];
      return { tool: 'ip', command: `link set dev ${op.device} ${parts.join(' ')}` };
    }
    case 'addr-add':
      return { tool: 'ip', command: `addr add ${op.cidr} dev ${op.device}${familyOf(op.cidr) === 6 ? ' nodad' : ''}` };
    case 'addr-del':
      return { tool: 'ip', command: `addr del ${op.cidr} dev ${op.device}` };
    case 'neigh-set':
      return { tool: 'ip', command: `neigh replace ${op.ip} lladdr ${op.mac} dev ${op.device} nud permanent` };
    case 'neigh-del':
      return { tool: 'ip', command: `neigh del ${op.ip} dev ${op.device}` };
    case 'fdb-add':
      return { tool: 'bridge', command: `fdb append ${op.mac} dev ${op.device} dst ${op.dst}` };
    case 'fdb-del':
      return { tool: 'bridge', command: `fdb del ${op.mac} dev ${op.device} dst ${op.dst}` };
  }
}
