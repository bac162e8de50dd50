import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkIfname, parseAnnounceTarget } from './announce-target.js';
import { DataplaneError } from './errors.js';

const isInputError = (err: unknown): boolean => err instanceof DataplaneError && err.code === 'EGW_ERR_ANNOUNCE_INPUT';

describe('parseAnnounceTarget', () => {
  const accepted = [
    { name: 'IPv4', ip: '198.18.0.100', canonical: '198.18.0.100', family: 4, bytes: [198, 18, 0, 100] },
    { name: 'IPv6 is canonicalised', ip: 'FD00:198:18:0:0::100', canonical: 'fd00:198:18::100', family: 6 },
    { name: 'IPv6 global', ip: '2001:db8::1', canonical: '2001:db8::1', family: 6 },
  ];
  for (const c of accepted) {
    test(`accepts ${c.name}`, () => {
      const t = parseAnnounceTarget(c.ip);
      assert.equal(t.ip, c.canonical);
      assert.equal(t.family, c.family);
      assert.equal(t.bytes.length, c.family === 4 ? 4 : 16);
      if (c.bytes) assert.deepEqual([...t.bytes], c.bytes);
      assert.ok(Object.isFrozen(t));
    });
  }

  const rejected = [
    { name: 'garbage', ip: 'eth0' },
    { name: 'short IPv4 form ipaddr.js would accept', ip: '127.1' },
    { name: 'CIDR', ip: '198.18.0.1/32' },
    { name: 'zone id', ip: 'fe80::1%eth0' },
    { name: 'unspecified v4', ip: '0.0.0.0' },
    { name: 'unspecified v6', ip: '::' },
    { name: 'broadcast', ip: '255.255.255.255' },
    { name: 'multicast v4', ip: '224.0.0.1' },
    { name: 'multicast v6', ip: 'ff02::1' },
    { name: 'loopback', ip: '127.0.0.1' },
    { name: 'IPv4-mapped IPv6', ip: '::ffff:198.18.0.1' },
  ];
  for (const c of rejected) {
    test(`rejects ${c.name}`, () => assert.throws(() => parseAnnounceTarget(c.ip), isInputError));
  }
});

describe('checkIfname', () => {
  for (const name of ['eth0', 'egress.vxlan', 'enp0s31f6', 'a'.repeat(15)]) {
    test(`accepts ${name}`, () => assert.equal(checkIfname(name), name));
  }
  for (const name of ['', '.', '..', '../eth0', 'eth 0', 'eth0:1', 'a'.repeat(16)]) {
    test(`rejects ${JSON.stringify(name)}`, () => assert.throws(() => checkIfname(name), isInputError));
  }
});
