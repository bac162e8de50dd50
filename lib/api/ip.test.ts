import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalIp, formatInterval, mergeIntervals, parseCidr, parseIpSpec } from './ip.js';

test('IP specs: single, range, CIDR, both families', () => {
  assert.equal(formatInterval(parseIpSpec('198.18.0.5')), '198.18.0.5');
  assert.equal(formatInterval(parseIpSpec('198.18.0.0-198.18.0.255')), '198.18.0.0/24');
  assert.equal(formatInterval(parseIpSpec('198.18.0.1-198.18.0.9')), '198.18.0.1-198.18.0.9');
  assert.equal(formatInterval(parseIpSpec('FD00::0/64')), 'fd00::/64');
  assert.equal(canonicalIp('fd00:0:0::1'), 'fd00::1');
});

test('bad input is rejected with a coded, readable error', () => {
  for (const bad of ['198.18.0.300', '198.18.0.1/33', '198.18.0.9-198.18.0.1', '198.18.0.1-fd00::1', '10.0.0.1/8', 'abc', '1.2.3', '010.1.1.1']) {
    assert.throws(() => parseIpSpec(bad), { code: 'EGW_ERR_INVALID_IP' }, bad);
  }
  assert.throws(() => parseCidr('10.0.0.1/8'), /host bits set \(use 10\.0\.0\.0\/8\)/);
});

test('merging overlapping and adjacent intervals (nft rejects overlaps in interval sets)', () => {
  const merged = mergeIntervals(['10.0.0.0/24', '10.0.1.0/24', '10.0.0.5', '198.18.0.11', 'fd00::/64', '10.0.3.0/24'].map(parseIpSpec));
  assert.deepEqual(merged.map(formatInterval), ['10.0.0.0/23', '10.0.3.0/24', '198.18.0.11', 'fd00::/64']);
});
