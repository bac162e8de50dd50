import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { buildGratuitousArp } from './arp-frame.js';
import { icmpv6Checksum, internetChecksum } from './checksum.js';
import { formatMac, parseMac } from './ethernet.js';
import { buildUnsolicitedNa } from './na-frame.js';
import { parseAnnounceTarget } from './announce-target.js';
import { buildAnnouncement } from './build-announcement.js';

const MAC = parseMac('52:54:00:12:34:56');
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

describe('gratuitous ARP', () => {
  const { bytes, dst, ethertype } = buildGratuitousArp(MAC, parseAnnounceTarget('198.18.0.100').bytes);

  test('is byte-exact: broadcast request, sender = target = EIP, target MAC zero', () => {
    const expected = hex(`
      ffffffffffff 525400123456 0806
      0001 0800 06 04 0001
      525400123456 c6120064
      000000000000 c6120064`);
    assert.equal(bytes.toString('hex'), expected.toString('hex'));
    assert.equal(bytes.length, 42);
  });

  test('field by field', () => {
    assert.equal(bytes.readUInt16BE(14), 1, 'htype ethernet');
    assert.equal(bytes.readUInt16BE(16), 0x0800, 'ptype IPv4');
    assert.equal(bytes.readUInt16BE(20), 1, 'op request');
    assert.deepEqual(bytes.subarray(22, 28), Buffer.from(MAC), 'sha = our MAC');
    assert.deepEqual(bytes.subarray(28, 32), bytes.subarray(38, 42), 'spa = tpa');
  });

  test('socket destination repeats the header', () => {
    assert.equal(formatMac(dst), 'ff:ff:ff:ff:ff:ff');
    assert.equal(ethertype, 0x0806);
  });
});

describe('unsolicited neighbour advertisement', () => {
  const target = parseAnnounceTarget('fd00:198:18::100').bytes;
  const { bytes, dst, ethertype } = buildUnsolicitedNa(MAC, target);

  test('is byte-exact (expected frame computed independently, in Python)', () => {
    const expected = hex(`
      333300000001 525400123456 86dd
      60000000 0020 3a ff fd000198001800000000000000000100 ff020000000000000000000000000001
      88 00 d081 20000000 fd000198001800000000000000000100
      02 01 525400123456`);
    assert.equal(bytes.toString('hex'), expected.toString('hex'));
    assert.equal(bytes.length, 86);
  });

  test('header fields: hop limit 255, ICMPv6, override only, TLLA option', () => {
    assert.equal(bytes[14]! >> 4, 6, 'IPv6');
    assert.equal(bytes.readUInt16BE(18), 32, 'payload length');
    assert.equal(bytes[20], 58, 'next header ICMPv6');
    assert.equal(bytes[21], 255, 'hop limit');
    assert.equal(bytes[54], 136, 'type NA');
    assert.equal(bytes[55], 0, 'code');
    assert.equal(bytes[58], 0x20, 'flags: O set, R and S clear');
    assert.deepEqual(bytes.subarray(62, 78), Buffer.from(target), 'target');
    assert.deepEqual([...bytes.subarray(78, 80)], [2, 1], 'option: target link-layer address, 8 bytes');
    assert.deepEqual(bytes.subarray(80, 86), Buffer.from(MAC));
    assert.equal(formatMac(dst), '33:33:00:00:00:01');
    assert.equal(ethertype, 0x86dd);
  });

  test('checksum verifies: pseudo-header + message with checksum sums to 0xffff', () => {
    // Independent of checksum.ts: 32-bit word sum with BigInt, folded at the end.
    const src = bytes.subarray(22, 38);
    const dstIp = bytes.subarray(38, 54);
    const message = bytes.subarray(54);
    const pseudo = Buffer.concat([src, dstIp, hex('00000020 000000 3a')]);
    const all = Buffer.concat([pseudo, message]);
    let sum = 0n;
    for (let i = 0; i < all.length; i += 4) sum += BigInt(all.readUInt32BE(i));
    while (sum > 0xffffn) sum = (sum & 0xffffn) + (sum >> 16n);
    assert.equal(sum, 0xffffn);
  });

  test('a different MAC changes the checksum accordingly', () => {
    const other = buildUnsolicitedNa(parseMac('02:00:00:00:00:99'), target).bytes;
    const message = Buffer.from(other.subarray(54));
    const sent = message.readUInt16BE(2);
    message.writeUInt16BE(0, 2);
    assert.equal(icmpv6Checksum(target, other.subarray(38, 54), message), sent);
    assert.notEqual(sent, bytes.readUInt16BE(56));
  });
});

describe('internet checksum', () => {
  const cases = [
    { name: 'RFC 1071 example', data: '0001f203f4f5f6f7', sum: 0x220d },
    { name: 'odd length pads with a zero byte', data: '0001f203f4f5f6', sum: 0x2304 },
    { name: 'empty', data: '', sum: 0xffff },
    { name: 'carry folds more than once', data: 'ffffffffffff', sum: 0x0000 },
  ];
  for (const c of cases) {
    test(c.name, () => assert.equal(internetChecksum(hex(c.data)), c.sum));
  }
});

test('buildAnnouncement picks ARP for IPv4 and NA for IPv6', () => {
  assert.equal(buildAnnouncement(parseAnnounceTarget('198.18.0.1'), MAC).ethertype, 0x0806);
  assert.equal(buildAnnouncement(parseAnnounceTarget('fd00:198:18::1'), MAC).ethertype, 0x86dd);
});
