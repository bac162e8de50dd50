import { LAN_ANNOTATION } from '../api/group.js';
import type { LanLink } from '../api/model.js';
import type { Reconciler } from '../kube/reconciler.js';
import { keepOwnAnnotation, type OwnTunnelOptions } from './own-tunnel.js';

/** The annotation's value for a LAN link: `mac ip/prefix [ip/prefix]`, IPv4 first. */
export function lanLinkText(link: LanLink): string {
  const byFamily = [...link.addresses].sort((a, b) => Number(a.includes(':')) - Number(b.includes(':')));
  return [link.mac, ...byFamily].join(' ');
}

/**
 * Keeps this node's parent NIC (its MAC and node addresses with their prefixes) in its
 * EgressTunnel's lan annotation, where every agent reads it for native routing.
 */
export function keepLanLinkPublished(options: OwnTunnelOptions): {
  readonly reconciler: Reconciler;
  set(link: LanLink | undefined): void;
} {
  const kept = keepOwnAnnotation(options, 'lan-link', LAN_ANNOTATION);
  return { reconciler: kept.reconciler, set: (link) => kept.set(link ? lanLinkText(link) : undefined) };
}
