import type { LivenessView, PeerLiveness } from '../liveness-types.js';

/** A peer heard, alive and healthy a moment ago, holding nothing; `over` changes what a test is about. */
export const peerLiveness = (node: string, over: Partial<PeerLiveness> = {}): PeerLiveness => ({
  node,
  address: '198.18.0.12',
  heard: true,
  alive: true,
  healthy: true,
  draining: false,
  holds: [],
  misses: 0,
  sinceHeardMs: 40,
  ...over,
});

export const livenessView = (...peers: PeerLiveness[]): LivenessView => ({ peers: new Map(peers.map((p) => [p.node, p])), isolated: false });
