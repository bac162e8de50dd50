import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatIp, parseIp, type Family } from '../../api/ip.js';
import { dumpedKey, keyText, plannedKey, sortedKeys } from './element-keys.js';

/** The IPv6 key of 32 hex digits: one code unit per group of 4. */
const v6 = (hex: string) => String.fromCharCode(...hex.match(/.{4}/g)!.map((group) => parseInt(group, 16)));

/** A key as a test name shows it: IPv6 keys in hex. */
const show = (key: number | string | undefined) =>
  typeof key === 'string' ? Array.from({ length: key.length }, (_, i) => key.charCodeAt(i).toString(16).padStart(4, '0')).join('') : String(key);

/** What parseIp (the slow path's parser) makes of `text` as a key of `family`, or undefined when it refuses it. */
function slowKey(text: string, family: Family): number | string | undefined {
  let parsed: ReturnType<typeof parseIp>;
  try {
    parsed = parseIp(text);
  } catch {
    return undefined;
  }
  if (parsed.family !== family) return undefined;
  return family === 4 ? Number(parsed.value) : v6(parsed.value.toString(16).padStart(32, '0'));
}

function random(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
}

describe('plannedKey', () => {
  const cases: [string, Family, number | string | undefined][] = [
    ['10.244.1.5', 4, 0x0af40105],
    ['0.0.0.0', 4, 0],
    ['255.255.255.255', 4, 0xffffffff],
    ['192.168.0.1', 4, 0xc0a80001],
    ['010.0.0.1', 4, undefined], // a leading zero: not the canonical text, left to the text diff
    ['10.0.0.256', 4, undefined],
    ['10.0.0', 4, undefined],
    ['10.0.0.1.', 4, undefined],
    ['10.0.0.1/32', 4, undefined],
    ['10.0.0.1-10.0.0.2', 4, undefined],
    ['fd00::1', 4, undefined],
    ['', 4, undefined],
    ['fd00::1', 6, v6('fd000000000000000000000000000001')],
    ['FD00:0:0::01', 6, v6('fd000000000000000000000000000001')],
    ['::', 6, v6('0'.repeat(32))],
    ['::1', 6, v6(`${'0'.repeat(31)}1`)],
    ['1::', 6, v6(`0001${'0'.repeat(28)}`)],
    ['1:2:3:4:5:6:7:8', 6, v6('00010002000300040005000600070008')],
    // parseIp refuses embedded dotted quads and IPv4-mapped addresses: the text diff decides those.
    ['1:2:3:4:5:6:1.2.3.4', 6, undefined],
    ['::ffff:1.2.3.4', 6, undefined],
    ['::ffff:102:304', 6, undefined],
    ['::fffe:102:304', 6, v6('00000000000000000000fffe01020304')],
    ['1:2:3:4:5:6:7:8:9', 6, undefined],
    ['1::2::3', 6, undefined],
    ['1:2:3:4:5:6:7', 6, undefined],
    ['1:2:3:4:5:6:7::8', 6, undefined],
    // `::` for a single group at either end: more fields than parseIp's pattern allows.
    ['1:2:3:4:5:6:7::', 6, undefined],
    ['::2:3:4:5:6:7:8', 6, undefined],
    ['1:2:3::5:6:7:8', 6, v6('00010002000300000005000600070008')],
    ['12345::', 6, undefined],
    ['fd00::g', 6, undefined],
    ['fd00::1/128', 6, undefined],
    ['fd00::1%eth0', 6, undefined],
    [':1::', 6, undefined],
    ['1::2:', 6, undefined],
    ['10.0.0.1', 6, undefined],
  ];
  for (const [text, family, key] of cases) test(`${JSON.stringify(text)} in an IPv${family} set → ${show(key)}`, () => assert.equal(plannedKey(text, family), key));

  test('agrees with parseIp on every case above', () => {
    for (const [text, family] of cases) assert.equal(plannedKey(text, family), slowKey(text, family), text);
  });

  test('agrees with parseIp on random addresses in canonical, full and upper-case notation', () => {
    const next = random(7);
    for (let i = 0; i < 2000; i++) {
      const v4 = BigInt(Math.floor(next() * 2 ** 32));
      assert.equal(plannedKey(formatIp(v4, 4), 4), Number(v4));
      // Runs of zero groups, so that `::` appears in every position.
      let v6 = 0n;
      for (let g = 0; g < 8; g++) v6 = (v6 << 16n) | BigInt(next() < 0.4 ? 0 : Math.floor(next() * 0x10000));
      const canonical = formatIp(v6, 6);
      const full = v6.toString(16).padStart(32, '0').match(/.{4}/g)!.join(':');
      for (const text of [canonical, full, canonical.toUpperCase()]) assert.equal(plannedKey(text, 6), slowKey(text, 6), text);
    }
  });
});

test('keyText prints keys as formatIp does, and dumpedKey reads them from network byte order', () => {
  const next = random(11);
  for (let i = 0; i < 1000; i++) {
    const v4 = Math.floor(next() * 2 ** 32);
    const bytes = Buffer.alloc(20);
    bytes.writeUInt32BE(v4, 3);
    assert.equal(keyText(dumpedKey(bytes, 3, 4)), formatIp(BigInt(v4), 4));
    const v6 = Buffer.from(Array.from({ length: 16 }, () => (next() < 0.3 ? 0 : Math.floor(next() * 256))));
    v6.copy(bytes, 2);
    assert.equal(keyText(dumpedKey(bytes, 2, 6)), formatIp(BigInt(`0x${v6.toString('hex')}`), 6));
  }
});

test('sortedKeys orders by address, without changing its argument', () => {
  const v4 = [0xc0a80001, 0x0a000001, 0xffffffff, 0];
  assert.deepEqual(sortedKeys(v4, 4), [0, 0x0a000001, 0xc0a80001, 0xffffffff]);
  assert.deepEqual(v4, [0xc0a80001, 0x0a000001, 0xffffffff, 0]);
  const six = ['fd000000000000000000000000000001', '00000000000000000000000000000001', 'fd000000000000000000000000000000', '8000000000000000000000000000ffff'].map(v6);
  assert.deepEqual(sortedKeys(six, 6), [six[1], six[3], six[2], six[0]]);
});
