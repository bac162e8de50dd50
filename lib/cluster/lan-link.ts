import { LAN_ANNOTATION } from '../api/group.js';
import type { LanLink } from '../api/model.js';
import type { Reconciler } from '../kube/reconciler.js';
import { resourcePath } from '../kube/resource.js';
import { RESOURCES } from './kinds.js';
import { annotationOf, keepOwnTunnel, type OwnTunnelOptions } from './own-tunnel.js';

/** The annotation's value for a LAN link: `mac ip/prefix [ip/prefix]`, IPv4 first. */
export function lanLinkText(link: LanLink): string {
  const byFamily = [...link.addresses].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  return [link.mac, ...byFamily].join(' ');
}

/**
 * Keeps this node's parent NIC (its MAC and node addresses with their prefixes) in its
 * EgressTunnel's lan annotation (one merge patch per change), where every agent reads it for
 * native routing. Waits for the tunnel to exist (the controller creates it, or the agent when it
 * publishes its NIC).
 */
export function keepLanLinkPublished(options: OwnTunnelOptions): {
  readonly reconciler: Reconciler;
  set(link: LanLink | undefined): void;
} {
  let wanted: string | undefined;
  let known = false;
  const reconciler = keepOwnTunnel(options, {
    name: 'lan-link',
    write: async (tunnel, signal) => {
      if (!known || !tunnel || annotationOf(tunnel, LAN_ANNOTATION) === wanted) return undefined;
      const patch = { metadata: { annotations: { [LAN_ANNOTATION]: wanted ?? null } } };
      return options.client.mergePatch(resourcePath(RESOURCES.EgressTunnel, { name: options.nodeName }), patch, signal);
    },
  });
  return {
    reconciler,
    set(link) {
      const text = link ? lanLinkText(link) : undefined;
      if (known && text === wanted) return;
      known = true;
      wanted = text;
      reconciler.trigger('lan-link');
    },
  };
}
