import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseAnnouncements } from './announcements.js';

// As captured on the lab's external host while `sluice apply` took an EIP.
const LINES = [
  '11:16:08.367943 f2:29:88:19:65:79 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.18.0.100 tell 198.18.0.100, length 28',
  '11:16:08.372901 f2:29:88:19:65:79 > 33:33:00:00:00:01, ethertype IPv6 (0x86dd), length 86: fd00:198:18::100 > ff02::1: ICMP6, neighbor advertisement, tgt is fd00:198:18::100, length 32',
  '11:16:09.000000 0a:00:00:00:00:02 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Request who-has 198.18.0.11 tell 198.18.0.2, length 28',
  '11:16:09.000100 0a:00:00:00:00:0b > 0a:00:00:00:00:02, ethertype ARP (0x0806), length 42: Reply 198.18.0.11 is-at 0a:00:00:00:00:0b, length 28',
  '11:16:09.000200 0a:00:00:00:00:0c > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: Reply 198.18.0.101 is-at 0a:00:00:00:00:0c, length 28',
];

test('gratuitous ARP (request or broadcast reply) and NA are recognised; ordinary ARP is not', () => {
  assert.deepEqual(parseAnnouncements(LINES), [
    { kind: 'garp', mac: 'f2:29:88:19:65:79', ip: '198.18.0.100' },
    { kind: 'na', mac: 'f2:29:88:19:65:79', ip: 'fd00:198:18::100' },
    { kind: 'garp', mac: '0a:00:00:00:00:0c', ip: '198.18.0.101' },
  ]);
});
