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
  const byKey = firewallEndpoints(snapshot);
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

/** `namespace/name` of each firewall-selected pod on `nodeName`, by address: who a logged denial came from. */
export function localFirewallPods(snapshot: Snapshot, nodeName: string): Map<string, string> {
  const out = new Map<string, string>();
  if ((snapshot.firewalls ?? []).length === 0) return out;
  for (const endpoints of firewallEndpoints(snapshot).values()) {
    for (const e of endpoints) if (e.node === nodeName) for (const a of [...e.ipv4, ...e.ipv6]) out.set(a, `${e.namespace}/${e.pod}`);
  }
  return out;
}

/** Each firewall's endpoints, by key. */
function firewallEndpoints(snapshot: Snapshot): Map<string, Endpoint[]> {
  const firewalls = snapshot.firewalls ?? [];
  const byKey = new Map<string, Endpoint[]>();
  if (snapshot.pods) {
    for (const fw of firewalls) byKey.set(fw.key, selectFirewallEndpoints(fw, snapshot.pods, snapshot.namespaces));
  } else {
    for (const slice of snapshot.firewallSlices ?? []) {
      if (slice.firewallKey === undefined) continue;
      byKey.set(slice.firewallKey, [...(byKey.get(slice.firewallKey) ?? []), ...slice.endpoints]);
    }
  }
  return byKey;
}
