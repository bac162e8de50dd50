import assert from 'node:assert/strict';
import { test } from 'node:test';
import dnsPacket, { type Answer } from 'dns-packet';
import { CLASSIC_UDP_SIZE, describeResponse, parseQuery, respond, TcpFramer, tcpFrame, udpLimit, zoneResponse } from './wire.js';
import { ZoneAnswerer } from './zone.js';

const query = (name: string, opts: { edns?: number; type?: 'A' | 'AAAA' | 'MX' } = {}) =>
  dnsPacket.encode({
    type: 'query',
    id: 4242,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: opts.type ?? 'A', name, class: 'IN' }],
    additionals:
      opts.edns === undefined ? [] : [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] } as Answer],
  });

const many = Array.from({ length: 40 }, (_, i) => `10.0.${Math.floor(i / 250)}.${(i % 250) + 1}`);
const zone = new ZoneAnswerer({ records: { 'big.test': { addresses: many, ttl: 3, rotate: false }, 'one.test': { addresses: ['10.1.1.1'], ttl: 3, rotate: false } } });

function answer(msg: Buffer, limit?: number) {
  const q = parseQuery(msg)!;
  return zoneResponse(q.packet, q.question, zone, 1, limit ?? udpLimit(q.packet));
}

test('an answer keeps the query id and question, and is authoritative', () => {
  const d = describeResponse(answer(query('one.test')));
  assert.deepEqual(d, { id: 4242, rcode: 'NOERROR', authoritative: true, truncated: false, answers: [{ name: 'one.test', type: 'A', ttl: 3, data: '10.1.1.1' }] });
  const nx = dnsPacket.decode(answer(query('none.test')));
  assert.equal((nx as { rcode?: string }).rcode, 'NXDOMAIN');
  assert.equal(nx.authorities?.[0]?.type, 'SOA', 'a negative answer carries the SOA (its minimum is the negative TTL)');
});

test('too big for UDP: empty with TC set; EDNS raises the limit; TCP takes it all', () => {
  const plain = answer(query('big.test'));
  assert.ok(plain.length <= CLASSIC_UDP_SIZE);
  assert.deepEqual([describeResponse(plain).truncated, describeResponse(plain).answers.length], [true, 0]);
  const edns = answer(query('big.test', { edns: 4096 }));
  assert.deepEqual([describeResponse(edns).truncated, describeResponse(edns).answers.length], [false, 40]);
  assert.ok(edns.length <= 1232, 'EDNS answers stay within 1232 bytes');
  const tcp = answer(query('big.test'), 65_535);
  assert.equal(describeResponse(tcp).answers.length, 40);
  assert.equal(udpLimit(parseQuery(query('x.test', { edns: 100 }))!.packet), CLASSIC_UDP_SIZE, 'never below 512');
});

test('garbage is not a query', () => {
  assert.equal(parseQuery(Buffer.from('hello')), undefined);
  const response = respond(parseQuery(query('one.test'))!.packet, { rcode: 'NOERROR', authoritative: false }, 512);
  assert.equal(parseQuery(response), undefined, 'a response is not a query');
});

test('TCP framing: messages split and joined across chunks', () => {
  const a = query('one.test');
  const b = query('big.test');
  const stream = Buffer.concat([tcpFrame(a), tcpFrame(b)]);
  const framer = new TcpFramer();
  const out: Buffer[] = [];
  for (let i = 0; i < stream.length; i += 7) out.push(...framer.push(stream.subarray(i, i + 7)));
  assert.deepEqual(out, [a, b]);
});
