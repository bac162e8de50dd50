import assert from 'node:assert/strict';
import { test } from 'node:test';
import { address, comment, identifier, interfaceName, setElement, u32 } from './values.js';

const refused = (fn: () => unknown, what: string) => assert.throws(fn, { code: 'EGW_ERR_NFT_VALUE' }, what);

test('interface names: what the API accepts, which the kernel takes and nft cannot read differently', () => {
  for (const ok of ['eth0', 'ens5', 'egress.vxlan', 'br-1a2b3c', 'cali0123456789a', 'flannel.1', 'bond0.100', 'cilium_host', 'a']) assert.equal(interfaceName(ok), ok);
  for (const bad of [
    '',
    '0123456789abcdef',
    'eth0"; add table ip evil { }',
    "eth'0",
    'eth 0',
    'eth\t0',
    'eth0\n',
    'a/b',
    'eth0:1',
    'eth*',
    'a\\b',
    '.',
    '..',
    '-x',
    'vlan@100',
    'ethé',
    'eth\u00000',
    7,
    undefined,
  ]) {
    refused(() => interfaceName(bad), JSON.stringify(bad));
  }
});

test('comments: printable ASCII up to 128 characters, no quote or backslash', () => {
  assert.equal(comment('gateway default/test'), 'gateway default/test');
  assert.equal(comment('x'.repeat(128)), 'x'.repeat(128));
  for (const bad of ['x'.repeat(129), 'a"b', 'a\\b', 'line\nbreak', 'tab\there', 'naïve', null]) refused(() => comment(bad), JSON.stringify(bad));
});

test('addresses are canonical and of the right family', () => {
  assert.equal(address('198.18.0.110', 4), '198.18.0.110');
  assert.equal(address('fd00:198:18::110', 6), 'fd00:198:18::110');
  for (const [bad, family] of [
    ['198.18.0.110', 6],
    ['fd00::1', 4],
    ['fd00:0::1', 6],
    ['FD00::1', 6],
    ['010.0.0.1', 4],
    ['198.18.0.0/24', 4],
    ['example.com', 4],
  ] as const) {
    refused(() => address(bad, family), bad);
  }
});

test('set elements: addresses, and in interval sets prefixes and ranges too', () => {
  assert.equal(setElement('10.244.1.5', 4, false), '10.244.1.5');
  assert.equal(setElement('fd00:10:244:1::5', 6, false), 'fd00:10:244:1::5');
  for (const ok of ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.1']) assert.equal(setElement(ok, 4, true), ok);
  for (const ok of ['fd00::/64', 'fd00::1-fd00::9']) assert.equal(setElement(ok, 6, true), ok);
  for (const [bad, family, interval] of [
    ['10.244.2.300', 4, false],
    ['10.96.0.0/12', 4, false],
    ['10.96.0.0/33', 4, true],
    ['fd00::1', 4, false],
    ['10.0.0.1', 6, false],
    ['cafe', 6, false],
    ['10.0.0.1 }; add table ip evil { ', 4, true],
    ['example.com', 4, false],
  ] as const) {
    refused(() => setElement(bad, family, interval), bad);
  }
});

test('names and numbers', () => {
  assert.equal(identifier('p_1a2b_all4'), 'p_1a2b_all4');
  for (const bad of ['', '4set', 'a-b', 'a b', 'x'.repeat(65), 'a;b']) refused(() => identifier(bad), bad);
  assert.equal(u32(0xffffffff), 0xffffffff);
  for (const bad of [-1, 2 ** 32, 1.5, Number.NaN, '1']) refused(() => u32(bad), String(bad));
});
