import assert from 'node:assert/strict';
import { test } from 'node:test';
import { probeView } from './peer-liveness.js';

const line = (o: Record<string, unknown>) => JSON.stringify({ level: 30, node: 'worker-1', ...o });

test('the last verdict per peer counts, a new process starts afresh with its own hold-down', () => {
  const log = [
    line({ time: '2026-01-01T00:00:00.000Z', op: 'probes', holdAtStartMs: 5000, msg: 'liveness probes running' }),
    line({ op: 'liveness', peer: 'gateway-1', alive: false, msg: 'peer dead by the probes' }),
    line({ op: 'liveness', peer: 'gateway-2', alive: false, msg: 'peer dead by the probes' }),
    line({ op: 'liveness', peer: 'gateway-2', alive: true, msg: 'peer alive by the probes' }),
    'not json, by the probes',
  ].join('\n');
  const v = probeView(log);
  assert.equal(v.probes, true);
  assert.deepEqual([...v.alive], [['gateway-1', false], ['gateway-2', true]]);
  assert.equal(v.holdEndsAt, Date.parse('2026-01-01T00:00:05.000Z'));
  const restarted = probeView(log + '\n' + line({ time: '2026-01-01T00:01:00.000Z', holdAtStartMs: 0, msg: 'liveness probes running' }));
  assert.deepEqual([...restarted.alive], []);
  assert.equal(restarted.holdEndsAt, Date.parse('2026-01-01T00:01:00.000Z'));
});

test('an agent without probes says nothing', () => {
  assert.equal(probeView(line({ msg: 'agent ready' })).probes, false);
});
