import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arpReport, parseArpLine, type ArpEvent } from './arp-report.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const ME = '02:00:00:00:00:01';
const EIP = '198.18.0.100';

/** Rounds every 50 ms from t=0; `who[i]` answered round i. */
function rounds(who: ReadonlyArray<readonly string[]>): ArpEvent[] {
  return who.flatMap((macs, i) => [{ kind: 'probe' as const, at: i * 50 }, ...macs.map((mac, j) => ({ kind: 'claim' as const, at: i * 50 + 1 + j, mac, gratuitous: false }))]);
}

test('a clean move: one MAC per round, no contested round, runs say who answered when', () => {
  const r = arpReport(rounds([[A], [A], [], [B], [B]]), 50);
  assert.equal(r.contestedRounds, 0);
  assert.equal(r.longestContestedMs, 0);
  assert.equal(r.longestUnansweredMs, 50);
  assert.deepEqual(
    r.runs.map((x) => [x.mac, x.from, x.to, x.rounds]),
    [
      [A, 0, 100, 2],
      [B, 150, 250, 2],
    ],
  );
  assert.deepEqual(r.macs, [A, B]);
});

test('two MACs in consecutive rounds: the longest contested stretch spans them', () => {
  const r = arpReport(rounds([[A], [A, B], [A, B], [A, B], [B], [A, B]]), 50);
  assert.equal(r.contestedRounds, 4);
  assert.equal(r.longestContestedMs, 150);
  assert.equal(r.longestContestedAt, 50);
});

test('a gratuitous ARP from the new holder in a round the old one answered counts as contested', () => {
  const events: ArpEvent[] = [...rounds([[A], [A]]), { kind: 'claim', at: 60, mac: B, gratuitous: true }];
  assert.equal(arpReport(events, 50).contestedRounds, 1);
});

test('tcpdump lines: our requests are probes, replies and gratuitous ARP are claims, other addresses are ignored', () => {
  const line = (src: string, dst: string, what: string) => `1765050000.250000 ${src} > ${dst}, ethertype ARP (0x0806), length 42: ${what}, length 28`;
  assert.deepEqual(parseArpLine(line(ME, 'ff:ff:ff:ff:ff:ff', `Request who-has ${EIP} tell 198.18.0.2`), EIP, ME), { kind: 'probe', at: 1765050000250 });
  assert.deepEqual(parseArpLine(line(A, ME, `Reply ${EIP} is-at ${A}`), EIP, ME), { kind: 'claim', at: 1765050000250, mac: A, gratuitous: false });
  assert.deepEqual(parseArpLine(line(B, 'ff:ff:ff:ff:ff:ff', `Request who-has ${EIP} tell ${EIP}`), EIP, ME), { kind: 'claim', at: 1765050000250, mac: B, gratuitous: true });
  assert.equal(parseArpLine(line(A, ME, `Reply 198.18.0.101 is-at ${A}`), EIP, ME), undefined);
  assert.equal(parseArpLine(line(A, 'ff:ff:ff:ff:ff:ff', `Request who-has ${EIP} tell 198.18.0.11`), EIP, ME), undefined);
  assert.equal(parseArpLine('tcpdump: listening on eth0', EIP, ME), undefined);
});
