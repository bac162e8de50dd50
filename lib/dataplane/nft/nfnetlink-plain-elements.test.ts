import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Family } from '../../api/ip.js';
import { EgressError } from '../../errors.js';
import { attr, NLA_F_NESTED, NLMSG_HDRLEN, stringPayload } from '../netlink/netlink-message.js';
import { NFPROTO_INET, nftablesRequest } from './nfnetlink.js';
import { ipBytes } from '../../api/ip.js';
import { be64 } from './nfnetlink-elements.js';
import { observedPlainSet, parsePlainElementDump, plainElements } from './nfnetlink-plain-elements.js';
import { observedSet, parseElementDump, type DumpedElement, type DumpedSet } from './nfnetlink-sets.js';

const SEQ = 4242;
const NLM_F_MULTI = 0x2;
const NLMSG_DONE = 3;

interface Element {
  readonly address: string;
  readonly timeoutMs?: number;
  readonly expirationMs?: number;
  readonly comment?: string;
  /** Nests flagged NLA_F_NESTED (as libnftnl writes them) or not (as some kernels dump them). */
  readonly flagged?: boolean;
}

/** One NFTA_LIST_ELEM as the kernel dumps it. */
function element(e: Element): Buffer {
  const nest = (type: number, parts: Buffer[]) => attr(e.flagged === false ? type : type | NLA_F_NESTED, Buffer.concat(parts));
  const parts = [nest(1, [attr(1, ipBytes(e.address))])];
  if (e.timeoutMs !== undefined) parts.push(attr(4, be64(e.timeoutMs)));
  if (e.expirationMs !== undefined) parts.push(attr(5, be64(e.expirationMs)));
  if (e.comment !== undefined) {
    const text = Buffer.from(`${e.comment}\0`);
    parts.push(attr(6, Buffer.concat([Buffer.from([0, text.length]), text])));
  }
  return nest(1, parts);
}

/** Datagrams of a GETSETELEM dump answer: `perMessage` elements per NEWSETELEM, two messages per datagram, then DONE. */
function dumpDatagrams(set: string, elements: readonly Element[], perMessage: number): Buffer[] {
  const messages: Buffer[] = [];
  for (let i = 0; i < elements.length; i += perMessage) {
    const list = attr(3 | NLA_F_NESTED, Buffer.concat(elements.slice(i, i + perMessage).map(element)));
    messages.push(nftablesRequest(12, NLM_F_MULTI, NFPROTO_INET, SEQ, [attr(1, stringPayload('sluice')), attr(2, stringPayload(set)), list]));
  }
  const done = Buffer.alloc(NLMSG_HDRLEN + 4);
  done.writeUInt32LE(done.length, 0);
  done.writeUInt16LE(NLMSG_DONE, 4);
  done.writeUInt16LE(NLM_F_MULTI, 6);
  done.writeUInt32LE(SEQ, 8);
  const datagrams: Buffer[] = [];
  for (let i = 0; i < messages.length; i += 2) datagrams.push(Buffer.concat(messages.slice(i, i + 2)));
  datagrams.push(done);
  return datagrams;
}

/** The set read both ways: through DumpedElement objects (observedSet) and straight into keys. */
function readBothWays(set: DumpedSet, datagrams: readonly Buffer[]) {
  const dumped: DumpedElement[] = [];
  for (const d of datagrams) dumped.push(...parseElementDump(d, SEQ).elements);
  const plain = plainElements(set.family);
  const done = datagrams.map((d) => parsePlainElementDump(d, SEQ, plain));
  assert.deepEqual(done, [...datagrams.map(() => false).slice(1), true]);
  const { keys, ...fast } = observedPlainSet(set, plain);
  return { slow: observedSet(set, dumped), fast: { ...fast }, keys };
}

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

const v4Set: DumpedSet = { table: 'sluice', name: 'p_all4', type: 'ipv4_addr', family: 4, flags: [], size: 262144 };
const v6Set: DumpedSet = { table: 'sluice', name: 'p_all6', type: 'ipv6_addr', family: 6, flags: [] };
const learned4: DumpedSet = { table: 'sluice', name: 'f_x_n0_4', type: 'ipv4_addr', family: 4, flags: ['timeout'], size: 65536 };
const learned6: DumpedSet = { table: 'sluice', name: 'f_x_n0_6', type: 'ipv6_addr', family: 6, flags: ['timeout'] };

function randomAddresses(family: Family, count: number, seed: number): string[] {
  const next = random(seed);
  const out = new Set<string>();
  while (out.size < count) {
    if (family === 4) out.add([0, 0, 0, 0].map(() => Math.floor(next() * 256)).join('.'));
    else out.add(`fd00:${Array.from({ length: 3 }, () => Math.floor(next() * 0x10000).toString(16)).join(':')}::${Math.floor(next() * 0x10000).toString(16)}`);
  }
  return [...out];
}

test('a set read straight into keys equals the same dump read element by element: both families, hash order, both nest flavours', () => {
  for (const [set, family] of [
    [v4Set, 4],
    [v6Set, 6],
  ] as const) {
    const next = random(family);
    const elements = randomAddresses(family, 3000, family).map((address) => ({ address, flagged: next() < 0.5 }));
    const { slow, fast, keys } = readBothWays(set, dumpDatagrams(set.name, elements, 700));
    assert.equal(slow.elements.length, 3000);
    assert.deepEqual(fast, slow);
    assert.equal(keys?.keys.length, 3000);
  }
});

test('elements with a timeout, an expiry or a comment are listed as timed, as the slow read lists them', () => {
  for (const [set, family] of [
    [learned4, 4],
    [learned6, 6],
  ] as const) {
    const [a, b, c, d] = randomAddresses(family, 4, 10 + family);
    const elements: Element[] = [
      { address: a!, timeoutMs: 600_000, expirationMs: 599_999, comment: 'dns a.test A ttl 25 to 10.244.1.5' },
      { address: b!, timeoutMs: 300_000, expirationMs: 1_500 },
      { address: c! },
      { address: d!, comment: 'no timeout' },
    ];
    const { slow, fast } = readBothWays(set, dumpDatagrams(set.name, elements, 3));
    assert.equal(slow.timed?.length, 3);
    assert.deepEqual(fast, slow);
  }
});

test('an empty set, and a key of the wrong width is refused', () => {
  const { slow, fast } = readBothWays(v4Set, dumpDatagrams(v4Set.name, [], 1));
  assert.deepEqual(fast, slow);
  const [datagram] = dumpDatagrams(v4Set.name, [{ address: 'fd00::1' }], 1);
  assert.throws(() => parsePlainElementDump(datagram!, SEQ, plainElements(4)), EgressError);
});
