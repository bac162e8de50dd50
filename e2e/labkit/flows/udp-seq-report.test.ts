import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SeqCaptureParser } from './udp-seq-capture.js';
import { SEQ_PREFIX, parseSeqPayload } from './udp-seq-format.js';
import { moves, seqReport, type SeqArrival } from './udp-seq-report.js';

const G1 = '02:00:00:00:00:01';
const G2 = '02:00:00:00:00:02';
const arrival = (seq: number, at: number, src = '198.18.0.100', srcPort = 4000, via = G1): SeqArrival => ({ seq, at, src, srcPort, via });
const sender = (sent: number, startedAt = 1000) => ({ sent, sendErrors: 0, maxStallMs: 3, startedAt });

test('the largest gap by the receiver clock, the loss in it, and the sources in order of first arrival', () => {
  const arrivals = [arrival(1, 1000), arrival(2, 1001), arrival(3, 1002), arrival(9, 1250, '198.18.0.101', 5000, G2), arrival(10, 1251, '198.18.0.101', 5000, G2)];
  const r = seqReport(arrivals, sender(10), 1252);
  assert.equal(r.maxGapMs, 248);
  assert.equal(r.maxGapStartedAt, 1002);
  assert.equal(r.maxGapEndedAt, 1250);
  assert.equal(r.lostInMaxGap, 5);
  assert.equal(r.lost, 5);
  assert.equal(r.received, 5);
  assert.deepEqual(
    r.sources.map((s) => [s.src, s.via, s.count]),
    [
      ['198.18.0.100', G1, 3],
      ['198.18.0.101', G2, 2],
    ],
  );
  assert.deepEqual(
    r.runs.map((x) => [x.via, x.src, x.from, x.to, x.count]),
    [
      [G1, '198.18.0.100', 1000, 1002, 3],
      [G2, '198.18.0.101', 1250, 1251, 2],
    ],
  );
  assert.deepEqual(r.bindings, ['198.18.0.100:4000', '198.18.0.101:5000']);
});

test('a flow that never came back ends in a gap up to the moment the sender stopped', () => {
  const r = seqReport([arrival(1, 1000), arrival(2, 1001)], sender(50), 1400);
  assert.equal(r.maxGapMs, 399);
  assert.equal(r.lostInMaxGap, 48);
  assert.equal(r.lost, 48);
});

test('a gap without loss (the sender stalled) is still the largest gap; duplicates are counted once', () => {
  const r = seqReport([arrival(1, 1000), arrival(2, 1100), arrival(2, 1101), arrival(3, 1102)], sender(3), 1103);
  assert.equal(r.maxGapMs, 100);
  assert.equal(r.lostInMaxGap, 0);
  assert.equal(r.duplicates, 1);
  assert.equal(r.lost, 0);
});

test('a flow that only starts arriving late: the first gap counts from the first datagram sent', () => {
  const r = seqReport([arrival(700, 1700), arrival(701, 1701)], sender(701, 1000), 1702);
  assert.equal(r.maxGapMs, 700);
  assert.equal(r.maxGapStartedAt, 1000);
  assert.equal(r.lostInMaxGap, 699);
});

test('nothing received: everything lost, the gap is the whole run', () => {
  const r = seqReport([], sender(5, 1000), 2000);
  assert.equal(r.maxGapMs, 1000);
  assert.equal(r.lost, 5);
  assert.equal(r.received, 0);
  assert.deepEqual(r.sources, []);
});

test('tcpdump -x output becomes arrivals with the kernel time, source and sequence number', () => {
  const got: SeqArrival[] = [];
  const p = new SeqCaptureParser((a) => got.push(a));
  const payload = Buffer.from(`${SEQ_PREFIX}0000000042`).toString('hex');
  const ipHeader = '4500002a000040004011abcdc6120064c6120002'; // IHL 5: 20 bytes
  const udpHeader = '0fa0520800160000';
  const packet = ipHeader + udpHeader + payload;
  const hexLines = (hex: string) => hex.match(/.{1,32}/g)!.map((chunk, i) => `\t0x${(i * 16).toString(16).padStart(4, '0')}:  ${chunk.match(/.{1,4}/g)!.join(' ')}`);
  const header = (at: string, len: number) =>
    `${at} ${G2} > 02:00:00:00:00:99, ethertype IPv4 (0x0800), length ${len + 42}: 198.18.0.100.4000 > 198.18.0.2.21000: UDP, length ${len}`;
  for (const l of [header('1765050000.123456', 14), ...hexLines(packet)]) p.line(l);
  p.line(header('1765050000.124456', 3));
  p.line('\t0x0000:  4500 001f');
  p.flush();
  assert.deepEqual(got, [{ at: 1765050000123.456, seq: 42, src: '198.18.0.100', srcPort: 4000, via: G2 }]);
});

test('payloads that are not sequence datagrams are ignored', () => {
  assert.equal(parseSeqPayload(Buffer.from('SEQ:12')), undefined);
  assert.equal(parseSeqPayload(Buffer.from('XYZ:0000000001')), undefined);
  assert.equal(parseSeqPayload(Buffer.from('SEQ:00000000x1')), undefined);
  assert.equal(parseSeqPayload(Buffer.from('SEQ:0000000001')), 1);
});

test("moves count changes of the delivering MAC of the EIP's datagrams, between runs long enough to be a path", () => {
  const EIP = '198.18.0.100';
  const run = (via: string, count: number, src = EIP) => ({ via, src, from: 0, to: 0, count });
  assert.equal(moves([run(G1, 100), run(G2, 2), run(G1, 50), run(G2, 300)], EIP), 1);
  assert.equal(moves([run(G1, 100), run(G2, 100), run(G1, 100)], EIP), 2);
  assert.equal(moves([run(G1, 100)], EIP), 0);
  assert.equal(moves([run(G1, 100), run(G2, 100, '10.244.1.2'), run(G1, 100)], EIP), 0, 'a leak is not a move');
});
