import type { Family } from '../api/ip.js';
import type { Endpoint } from '../api/model.js';
import type { Snapshot } from './snapshot.js';
import { selectFirewallEndpoints } from './endpoints.js';
import type { FirewallInput } from './firewall-rules.js';

/**
 * Every firewall with the addresses of its pods on `nodeName`: selected from the Pods where the
 * snapshot has them (the controller, `sluice plan` on files), else from the controller's slices.
 */
export function localFirewallInputs(snapshot: Snapshot, nodeName: string): FirewallInput[] {
  const firewalls = snapshot.firewalls ?? [];
  if (firewalls.length === 0) return [];
  const byKey = new Map<string, Endpoint[]>();
  if (snapshot.pods) {
    for (const fw of firewalls) byKey.set(fw.key, selectFirewallEndpoints(fw, snapshot.pods, snapshot.namespaces));
  } else {
    for (const slice of snapshot.firewallSlices ?? []) {
      if (slice.firewallKey === undefined) continue;
      byKey.set(slice.firewallKey, [...(byKey.get(slice.firewallKey) ?? []), ...slice.endpoints]);
    }
  }
  return firewalls.map((firewall) => {
    const local: Record<Family, string[]> = { 4: [], 6: [] };
    for (const e of byKey.get(firewall.key) ?? []) {
      if (e.node !== nodeName) continue;
      local[4].push(...e.ipv4);
      local[6].push(...e.ipv6);
    }
    return { firewall, local };
  });
}
