import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIp } from '../../api/ip.js';
import { observedSet, type DumpedElement, type DumpedSet } from './nfnetlink-sets.js';

const key = (text: string) => parseIp(text).value;
const start = (text: string): DumpedElement => ({ key: key(text), end: false, timeoutMs: 0, expirationMs: 0 });
const end = (text: string): DumpedElement => ({ ...start(text), end: true });
const nets4: DumpedSet = { table: 'sluice', name: 'nets4', type: 'ipv4_addr', family: 4, flags: ['interval'] };

test('interval elements pair into addresses, prefixes and ranges, in key order whatever the dump order', () => {
  // rbtree dumps from the highest key down; an interval's end is its first address past it.
  const dumped = [start('240.0.0.0'), end('198.18.0.21'), start('198.18.0.20'), end('10.244.4.0'), start('10.244.1.0'), end('10.112.0.0'), start('10.96.0.0')];
  assert.deepEqual(observedSet(nets4, dumped).elements, ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.20', '240.0.0.0/4']);
});

test('adjacent intervals stay apart: the end of one and the start of the next share a key', () => {
  assert.deepEqual(observedSet(nets4, [start('10.0.0.4'), end('10.0.0.4'), start('10.0.0.0'), end('10.0.0.8')].reverse()).elements, ['10.0.0.0/30', '10.0.0.4/30']);
});

test('elements with a timeout or a comment are listed as timed, seconds left rounded down', () => {
  const set: DumpedSet = { table: 'sluice', name: 'f_x_n0_6', type: 'ipv6_addr', family: 6, flags: ['timeout'], size: 64 };
  const observed = observedSet(set, [
    { key: key('2001:db8::5'), end: false, timeoutMs: 40_000, expirationMs: 39_999, comment: 'dns a.test' },
    { key: key('2001:db8::1'), end: false, timeoutMs: 0, expirationMs: 0 },
  ]);
  assert.deepEqual(observed, {
    name: 'f_x_n0_6',
    type: 'ipv6_addr',
    flags: ['timeout'],
    interval: false,
    elements: ['2001:db8::1', '2001:db8::5'],
    size: 64,
    timed: [{ element: '2001:db8::5', expiresSeconds: 39, comment: 'dns a.test' }],
  });
});
