import { EgressError } from '../errors.js';
import type { AgentConfig } from './config.js';
import { interfaceName } from './nft/values.js';

/**
 * The NIC a node's plan names for EIPs, VXLAN and the anti-spoofing rule. It comes from the
 * node's EgressTunnel status, which any agent can write: a name the kernel or nft would read
 * differently is not used. The configured default interface stands in for it, with a notice, so
 * one bad status costs that node its parent NIC's name, never its policies.
 */
export function usableParentInterface(node: string, reported: string | undefined, config: Pick<AgentConfig, 'defaultInterface'>): { name: string; notice?: string } {
  if (reported === undefined) return { name: config.defaultInterface };
  try {
    return { name: interfaceName(reported) };
  } catch (err) {
    if (!(err instanceof EgressError)) throw err;
    return { name: config.defaultInterface, notice: `EgressTunnel "${node}": status.tunnel.parent.name ignored: ${err.message}; using "${config.defaultInterface}"` };
  }
}
