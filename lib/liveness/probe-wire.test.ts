import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeProbe, encodeProbe, MAX_DATAGRAM, MAX_LIST, type ProbePacket, type WireProblem } from './probe-wire.js';

const BASE: Omit<ProbePacket, 'truncated'> = {
  type: 'probe',
  healthy: true,
  draining: false,
  seq: 0xfffffffe,
  stamp: 12345.678,
  sender: 'gateway-1.example',
  holds: ['198.18.0.100', 'fd00:198:18::100'],
  heard: ['gateway-2', 'worker-1'],
};

function decoded(bytes: Uint8Array): ProbePacket {
  const result = decodeProbe(bytes);
  assert.equal(result.problem, undefined, `decodes (${result.problem})`);
  return result.packet!;
}

/** A valid datagram with one byte changed. */
function patched(at: number, value: number, packet = BASE): Buffer {
  const bytes = Buffer.from(encodeProbe(packet));
  bytes[at] = value;
  return bytes;
}

test('a packet survives encode and decode', () => {
  for (const packet of [BASE, { ...BASE, type: 'answer' as const, healthy: false, draining: true, holds: [], heard: [] }]) {
    assert.deepEqual(decoded(encodeProbe(packet)), { ...packet, truncated: false });
  }
});

test('addresses travel in binary and come back canonical', () => {
  const bytes = encodeProbe({ ...BASE, holds: ['fd00:0198:0018:0:0:0:0:0100'], heard: [] });
  assert.equal(bytes.length, 18 + 1 + BASE.sender.length + 1 + 17 + 1);
  assert.deepEqual(decoded(bytes).holds, ['fd00:198:18::100']);
});

test('lists that do not fit are cut and the truncated flag is set', () => {
  const long = (i: number) => `${'n'.repeat(60)}.${'m'.repeat(60)}.${'o'.repeat(60)}.node-${i}`;
  const heard = Array.from({ length: 40 }, (_, i) => long(i));
  const bytes = encodeProbe({ ...BASE, heard });
  assert.ok(bytes.length <= MAX_DATAGRAM, `${bytes.length} bytes`);
  const packet = decoded(bytes);
  assert.equal(packet.truncated, true);
  assert.ok(packet.heard.length > 0 && packet.heard.length < heard.length);
  assert.deepEqual(packet.heard, heard.slice(0, packet.heard.length), 'a prefix of the list, in order');
  assert.deepEqual(packet.holds, BASE.holds, 'holds come first');

  const holds = Array.from({ length: 300 }, (_, i) => `198.18.${i >> 8}.${i & 0xff}`);
  const many = decoded(encodeProbe({ ...BASE, holds, heard: ['a'] }));
  assert.equal(many.truncated, true);
  assert.equal(many.holds.length, MAX_LIST, 'at most one count byte of holds');
  assert.deepEqual(many.heard, ['a'], 'the heard list still fits after 255 IPv4 holds');

  const holds6 = Array.from({ length: 100 }, (_, i) => `fd00::${i.toString(16)}`);
  const cut = encodeProbe({ ...BASE, sender: 'x'.repeat(63), holds: holds6, heard: ['a'.repeat(20)] });
  assert.ok(cut.length <= MAX_DATAGRAM);
  const six = decoded(cut);
  assert.equal(six.truncated, true);
  assert.ok(six.holds.length < 100 && six.holds.length > 70);
  assert.deepEqual(six.heard, [], 'no room left for the heard list');
});

test('encode refuses a sender that is not a node name', () => {
  for (const sender of ['', 'Upper', 'a'.repeat(254), 'bad_name']) {
    assert.throws(() => encodeProbe({ ...BASE, sender }), { code: 'EGW_ERR_PROBE_INPUT' }, sender);
  }
});

test('malformed datagrams are refused with the reason, never an exception', () => {
  const valid = encodeProbe(BASE);
  const nameAt = 18;
  const holdsAt = nameAt + 1 + BASE.sender.length;
  const heardAt = holdsAt + 1 + 5 + 17;
  const cases: { name: string; bytes: Uint8Array; problem: WireProblem }[] = [
    { name: 'empty', bytes: new Uint8Array(0), problem: 'short' },
    { name: 'header only', bytes: valid.subarray(0, 18), problem: 'short' },
    { name: 'oversized', bytes: Buffer.concat([valid, Buffer.alloc(MAX_DATAGRAM)]), problem: 'oversized' },
    { name: 'bad magic', bytes: patched(0, 0x00), problem: 'magic' },
    { name: 'future version', bytes: patched(2, 2), problem: 'version' },
    { name: 'unknown type', bytes: patched(3, 3), problem: 'type' },
    { name: 'type 0', bytes: patched(3, 0), problem: 'type' },
    { name: 'unknown flag', bytes: patched(4, 0x09), problem: 'flags' },
    { name: 'reserved byte set', bytes: patched(5, 1), problem: 'reserved' },
    { name: 'NaN stamp', bytes: Buffer.concat([valid.subarray(0, 10), Buffer.from([0x7f, 0xf8, 0, 0, 0, 0, 0, 0]), valid.subarray(18)]), problem: 'stamp' },
    { name: 'negative stamp', bytes: patched(10, 0xc0), problem: 'stamp' },
    { name: 'empty sender', bytes: patched(nameAt, 0), problem: 'sender' },
    { name: 'sender with upper case', bytes: patched(nameAt + 1, 'G'.charCodeAt(0)), problem: 'sender' },
    { name: 'sender with a NUL', bytes: patched(nameAt + 1, 0), problem: 'sender' },
    { name: 'sender longer than the datagram', bytes: patched(nameAt, 250), problem: 'short' },
    { name: 'hold of family 5', bytes: patched(holdsAt + 1, 5), problem: 'holds' },
    { name: 'a hold count past the holds', bytes: patched(holdsAt, 3), problem: 'holds' },
    { name: 'a hold cut short', bytes: encodeWithRawHold([0xfd]).subarray(0, holdsAt + 1 + 1 + 8), problem: 'short' },
    { name: 'IPv4-mapped hold', bytes: encodeWithRawHold([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 198, 18, 0, 1]), problem: 'holds' },
    { name: 'duplicate hold', bytes: encodeProbe({ ...BASE, holds: ['198.18.0.1', '198.18.0.1'] }), problem: 'holds' },
    { name: 'heard name too long for the data', bytes: patched(heardAt + 1, 200), problem: 'short' },
    { name: 'heard name empty', bytes: patched(heardAt + 1, 0), problem: 'heard' },
    { name: 'heard name with a dot at the end', bytes: patched(heardAt + 1 + 'gateway-2'.length, '.'.charCodeAt(0)), problem: 'heard' },
    { name: 'duplicate heard name', bytes: encodeProbe({ ...BASE, heard: ['a', 'a'] }), problem: 'heard' },
    { name: 'missing heard count', bytes: valid.subarray(0, heardAt), problem: 'short' },
    { name: 'cut in the middle', bytes: valid.subarray(0, valid.length - 3), problem: 'short' },
    { name: 'trailing byte', bytes: Buffer.concat([valid, Buffer.from([0])]), problem: 'trailing' },
  ];
  for (const c of cases) assert.equal(decodeProbe(c.bytes).problem, c.problem, c.name);
});

function encodeWithRawHold(address: number[]): Buffer {
  const bytes = Buffer.from(encodeProbe({ ...BASE, holds: ['fd00::1'], heard: [] }));
  Buffer.from(address).copy(bytes, 18 + 1 + BASE.sender.length + 2);
  return bytes;
}

test('garbage of any length never throws, and what decodes encodes to the same bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: MAX_DATAGRAM + 10 }), (bytes) => {
      const result = decodeProbe(bytes);
      if (result.packet !== undefined && !result.packet.truncated) assert.deepEqual(Buffer.from(encodeProbe(result.packet)), Buffer.from(bytes));
    }),
    { numRuns: 2000 },
  );
  // Mutations of valid datagrams reach far deeper than random bytes.
  const valid = encodeProbe(BASE);
  fc.assert(
    fc.property(fc.nat(valid.length - 1), fc.nat(255), fc.nat(valid.length), (at, value, cut) => {
      const bytes = Buffer.from(valid);
      bytes[at] = value;
      const result = decodeProbe(bytes.subarray(0, cut));
      if (result.packet !== undefined) assert.ok(result.packet.sender.length > 0);
    }),
    { numRuns: 5000 },
  );
});
