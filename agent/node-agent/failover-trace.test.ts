import assert from 'node:assert/strict';
import { test } from 'node:test';
import { livenessView, peerLiveness } from '../../lib/liveness/testing/peer.js';
import { monotonicMs, peerChanges } from './failover-trace.js';

const peer = peerLiveness;
const view = livenessView;

test('a death, a return and a change of holds are changes; ages, misses and new peers are not', () => {
  const before = view(peer('gateway-1', { holds: ['198.18.0.110'] }), peer('gateway-2'), peer('gateway-3', { alive: false, heard: false }));
  const after = view(
    peer('gateway-1', { alive: false, heard: false, misses: 3, sinceHeardMs: 301.26, holds: ['198.18.0.110'] }),
    peer('gateway-2', { holds: ['198.18.0.110'], sinceHeardMs: 90 }),
    peer('gateway-3'),
    peer('gateway-4'),
  );
  assert.deepEqual(peerChanges(before, after), [
    { peer: 'gateway-1', alive: false, sinceHeardMs: 301.3 },
    { peer: 'gateway-2', sinceHeardMs: 90, holds: ['198.18.0.110'] },
    { peer: 'gateway-3', alive: true, sinceHeardMs: 40 },
  ]);
  assert.deepEqual(peerChanges(undefined, after), [], 'the first view has nothing to compare with');
  assert.deepEqual(peerChanges(after, view(...[...after.peers.values()].map((p) => ({ ...p, misses: p.misses + 1, sinceHeardMs: 500 })))), []);
});

test('a peer that starts or stops draining is a change (a drained node goes on answering draining once it let its EIPs go)', () => {
  const before = view(peer('gateway-1'), peer('gateway-2', { draining: true }));
  const after = view(peer('gateway-1', { draining: true, sinceHeardMs: 20 }), peer('gateway-2', { sinceHeardMs: 30 }));
  assert.deepEqual(peerChanges(before, after), [
    { peer: 'gateway-1', draining: true, sinceHeardMs: 20 },
    { peer: 'gateway-2', draining: false, sinceHeardMs: 30 },
  ]);
});

test('the monotonic clock is process.hrtime in milliseconds', () => {
  const a = monotonicMs();
  const hr = Number(process.hrtime.bigint()) / 1e6;
  const b = monotonicMs();
  assert.ok(a <= hr && hr <= b, `${a} ${hr} ${b}`);
});
