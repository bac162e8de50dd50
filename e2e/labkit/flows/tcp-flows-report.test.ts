import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tcpFlowsReport, type TcpConnRecord } from './tcp-flows-report.js';

const conn = (i: number, sentAt: number[], answered: number[], ended: TcpConnRecord['ended'] = null): TcpConnRecord => ({
  conn: i,
  connectedAt: 0,
  sentAt,
  answers: answered.map((at, k) => [k + 1, at] as const),
  peers: ['198.18.0.100:40000'],
  ended,
});

test('a connection survives when it was never reset and a line sent after the instant was answered', () => {
  const r = tcpFlowsReport(
    [
      conn(0, [100, 200, 300, 400], [101, 201, 350, 401]),
      // Sent after the instant but never answered: stuck.
      conn(1, [100, 200, 300, 400], [101, 201]),
      conn(2, [100, 200, 300], [101, 201, 301], { why: 'read ECONNRESET', code: 'ECONNRESET', at: 302 }),
    ],
    250,
  );
  assert.equal(r.survived, 1);
  assert.equal(r.resets, 1);
  assert.deepEqual(
    r.connections.map((c) => [c.flowedAfter, c.reset, c.endedWith]),
    [
      [true, false, undefined],
      [false, false, undefined],
      [true, true, 'ECONNRESET'],
    ],
  );
  assert.equal(r.connections[0]!.maxGapMs, 149);
});

test('a connection that never connected does not survive', () => {
  const r = tcpFlowsReport([{ ...conn(0, [], []), connectedAt: null, ended: { why: 'connect ETIMEDOUT', code: 'ETIMEDOUT', at: 5 } }], 0);
  assert.equal(r.survived, 0);
  assert.equal(r.connections[0]!.connected, false);
});
