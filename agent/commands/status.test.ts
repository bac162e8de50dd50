import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LivenessView, PeerLiveness } from '../../lib/liveness/liveness-types.js';
import { livenessStatus, type AgentStatus } from '../node-agent/agent-state.js';
import { renderPeers, renderStatus } from './status.js';
import { peerLiveness } from '../../lib/liveness/testing/peer.js';

const peer = (node: string, address: string, over: Partial<PeerLiveness> = {}): PeerLiveness => peerLiveness(node, { address, sinceHeardMs: 42.4, ...over });

const view: LivenessView = {
  isolated: false,
  peers: new Map([
    ['gw-3', peer('gw-3', '198.18.0.13', { heard: false, alive: false, misses: 7, sinceHeardMs: 1234 })],
    ['gw-2', peer('gw-2', '198.18.0.12', { holds: ['198.18.100.5', 'fd00:198:18::5'] })],
    ['w-1', peer('w-1', '198.18.0.21', { heard: false, misses: 3, sinceHeardMs: undefined })],
    ['gw-4', peer('gw-4', '198.18.0.14', { healthy: false, draining: true, truncated: true, holds: ['198.18.100.6', '\u001b[2Jnot an ip'] })],
  ]),
};

test('livenessStatus: the view as plain JSON, peers sorted by node, only addresses in holds', () => {
  const s = livenessStatus(view);
  assert.deepEqual(JSON.parse(JSON.stringify(s)), {
    isolated: false,
    peers: [
      { node: 'gw-2', address: '198.18.0.12', alive: true, heard: true, healthy: true, draining: false, misses: 0, sinceHeardMs: 42, holds: ['198.18.100.5', 'fd00:198:18::5'] },
      { node: 'gw-3', address: '198.18.0.13', alive: false, heard: false, healthy: true, draining: false, misses: 7, sinceHeardMs: 1234, holds: [] },
      { node: 'gw-4', address: '198.18.0.14', alive: true, heard: true, healthy: false, draining: true, misses: 0, sinceHeardMs: 42, holds: ['198.18.100.6'], truncated: true },
      { node: 'w-1', address: '198.18.0.21', alive: true, heard: false, healthy: true, draining: false, misses: 3, holds: [] },
    ],
  });
});

test('renderPeers: one aligned line per peer, the state in words', () => {
  assert.deepEqual(renderPeers(livenessStatus(view)), [
    'peers (probes):',
    '  NODE  ADDRESS      STATE                          MISSES  LAST ANSWER  HOLDS',
    '  gw-2  198.18.0.12  alive                          0       42 ms ago    198.18.100.5, fd00:198:18::5',
    '  gw-3  198.18.0.13  DEAD                           7       1.2 s ago    -',
    '  gw-4  198.18.0.14  alive, UNHEALTHY, draining     0       42 ms ago    198.18.100.6 (list cut short)',
    '  w-1   198.18.0.21  alive (vouched for by a peer)  3       never        -',
  ]);
  assert.deepEqual(renderPeers({ isolated: true, peers: [] }), ['peers (probes): ISOLATED, no peer answers:', '  none']);
});

test('sluice status shows the peers when the agent probes, and nothing of them otherwise', () => {
  const base: AgentStatus = { node: 'gw-1', version: '1.0.0', commit: 'abc', leader: false, synced: true, ready: true, parentInterface: 'eth0', announcements: [] };
  assert.doesNotMatch(renderStatus(base), /peers/);
  const text = renderStatus({ ...base, liveness: livenessStatus(view) });
  assert.match(text, /^peers \(probes\):\n {2}NODE +ADDRESS/m);
  assert.match(text, /^ {2}gw-3 +198\.18\.0\.13 +DEAD +7 +1\.2 s ago +-$/m);
});
