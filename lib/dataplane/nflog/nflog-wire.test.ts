import assert from 'node:assert/strict';
import { test } from 'node:test';
import { attr, stringPayload } from '../netlink/netlink-message.js';
import { LineBudget } from './line-budget.js';
import { bindGroupRequest, COPY_RANGE, parseLoggedPacket, walkLogDatagram } from './nflog-wire.js';

const NFULA_PAYLOAD = 9;
const NFULA_PREFIX = 10;

/** One nfnetlink_log packet message as the kernel sends it. */
function logMessage(family: number, attrs: readonly Buffer[]): Buffer {
  const body = Buffer.concat(attrs);
  const head = Buffer.alloc(20);
  head.writeUInt32LE(20 + body.length, 0);
  head.writeUInt16LE(4 << 8, 4); // NFNL_SUBSYS_ULOG, NFULNL_MSG_PACKET
  head.writeUInt8(family, 16);
  return Buffer.concat([head, body]);
}

function ipv4Udp(src: string, dst: string, dport: number, fragmentOffset = 0): Buffer {
  const p = Buffer.alloc(28);
  p.writeUInt8(0x45, 0);
  p.writeUInt16BE(fragmentOffset, 6);
  p.writeUInt8(17, 9);
  Buffer.from(src.split('.').map(Number)).copy(p, 12);
  Buffer.from(dst.split('.').map(Number)).copy(p, 16);
  p.writeUInt16BE(dport, 22);
  return p;
}

function ipv6Tcp(dport: number): Buffer {
  const p = Buffer.alloc(44);
  p.writeUInt8(0x60, 0);
  p.writeUInt8(6, 6);
  p.writeUInt8(0xfd, 8);
  p.writeUInt8(1, 23); // fd00::1
  p.writeUInt16BE(0x2001, 24);
  p.writeUInt16BE(0x0db8, 26);
  p.writeUInt8(7, 39); // 2001:db8::7
  p.writeUInt16BE(dport, 42);
  return p;
}

test('a logged packet: prefix, addresses, protocol and port, IPv4 and IPv6', () => {
  const seen: ReturnType<typeof parseLoggedPacket>[] = [];
  const datagram = Buffer.concat([
    logMessage(2, [attr(NFULA_PREFIX, stringPayload('fw apps/deny #1')), attr(NFULA_PAYLOAD, ipv4Udp('10.244.1.5', '203.0.113.9', 443))]),
    logMessage(10, [attr(NFULA_PREFIX, stringPayload('fw apps/deny default')), attr(NFULA_PAYLOAD, ipv6Tcp(8443))]),
  ]);
  assert.equal(
    walkLogDatagram(datagram, 1, (family, attrs) => seen.push(parseLoggedPacket(family, attrs))),
    undefined,
  );
  assert.deepEqual(seen, [
    { prefix: 'fw apps/deny #1', family: 4, source: '10.244.1.5', destination: '203.0.113.9', protocol: 'udp', port: 443 },
    { prefix: 'fw apps/deny default', family: 6, source: 'fd00::1', destination: '2001:db8::7', protocol: 'tcp', port: 8443 },
  ]);
});

test('what a packet cannot say is left out, never guessed', () => {
  const parse = (family: number, attrs: Buffer[]) => parseLoggedPacket(family, logMessage(family, attrs).subarray(20));
  assert.deepEqual(parse(2, [attr(NFULA_PAYLOAD, ipv4Udp('10.0.0.1', '10.0.0.2', 53, 185))]), {
    prefix: '',
    family: 4,
    source: '10.0.0.1',
    destination: '10.0.0.2',
    protocol: 'udp',
  });
  assert.deepEqual(parse(2, [attr(NFULA_PREFIX, stringPayload('a\x01b')), attr(NFULA_PAYLOAD, Buffer.from([0x45, 0, 0]))]), { prefix: 'a?b' }, 'a short packet: the prefix only');
  assert.deepEqual(parse(10, [attr(NFULA_PAYLOAD, ipv4Udp('10.0.0.1', '10.0.0.2', 53))]), { prefix: '' }, 'an IPv4 header in an IPv6 message is not read');
  const cut = ipv4Udp('10.0.0.1', '10.0.0.2', 53).subarray(0, 22);
  assert.equal(parse(2, [attr(NFULA_PAYLOAD, cut)]).port, undefined, 'a transport header cut short has no port');
  const long = 'x'.repeat(300);
  assert.equal(parse(2, [attr(NFULA_PREFIX, stringPayload(long))]).prefix.length, 127);
});

test('walking stops at a truncated message and finds the acknowledgement of the bind', () => {
  const ack = Buffer.alloc(36);
  ack.writeUInt32LE(36, 0);
  ack.writeUInt16LE(2, 4); // NLMSG_ERROR
  ack.writeUInt32LE(7, 8);
  ack.writeInt32LE(-16, 16); // EBUSY
  assert.equal(
    walkLogDatagram(ack, 7, () => assert.fail('no packet')),
    16,
  );
  assert.equal(
    walkLogDatagram(ack, 8, () => {}),
    undefined,
    'another request',
  );
  const truncated = logMessage(2, [attr(NFULA_PREFIX, stringPayload('x'))]);
  truncated.writeUInt32LE(500, 0);
  let calls = 0;
  walkLogDatagram(truncated, 1, () => calls++);
  assert.equal(calls, 0);
});

test('the bind request names the group and copies only the headers', () => {
  const r = bindGroupRequest(7040, 3);
  assert.equal(r.readUInt16LE(4), (4 << 8) | 1, 'NFULNL_MSG_CONFIG');
  assert.equal(r.readUInt16BE(18), 7040, 'res_id is the group');
  assert.ok(r.includes(Buffer.from([0, 0, 0, COPY_RANGE, 2])), 'copy mode: packet, COPY_RANGE bytes');
});

test('the line budget: a burst, then the rate', () => {
  const b = new LineBudget(10, 3, 0);
  assert.deepEqual([b.take(0), b.take(0), b.take(0), b.take(0)], [true, true, true, false]);
  assert.equal(b.waitMs(0), 100);
  assert.equal(b.take(100), true);
  assert.equal(b.take(100), false);
  assert.equal(b.take(10_000) && b.take(10_000) && b.take(10_000) && !b.take(10_000), true, 'never more than the burst saved up');
});
