import { execa } from 'execa';
import { isRecord } from '../../lib/api/fields.js';

/**
 * The NIC that carries the node's InternalIP: EIPs go there and VXLAN rides on it. Falls back to
 * the interface of the default route, then to `fallback`.
 */
export async function detectParentInterface(nodeIps: readonly string[], fallback: string): Promise<string> {
  try {
    const { stdout } = await execa('ip', ['-json', 'addr', 'show'], { timeout: 5000 });
    const links: unknown = JSON.parse(stdout);
    if (Array.isArray(links)) {
      for (const link of links) {
        if (!isRecord(link) || !Array.isArray(link.addr_info)) continue;
        if (link.addr_info.some((a) => isRecord(a) && typeof a.local === 'string' && nodeIps.includes(a.local))) return String(link.ifname);
      }
    }
    const route = await execa('ip', ['-json', 'route', 'show', 'default'], { timeout: 5000 });
    const routes: unknown = JSON.parse(route.stdout || '[]');
    if (Array.isArray(routes) && isRecord(routes[0]) && typeof routes[0].dev === 'string') return routes[0].dev;
  } catch {
    // iproute2 missing or unparsable output: the fallback is the documented default
  }
  return fallback;
}
