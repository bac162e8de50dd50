import assert from 'node:assert/strict';
import { test } from 'node:test';
import { echoAddresses } from '../addressing.js';
import { defaultZone, SEED_NAMES } from './default-zone.js';
import { normalizeName, parseZone, zoneRecord, ZoneAnswerer, type Zone } from './zone.js';

const zone: Zone = {
  records: {
    'github.com': { addresses: ['198.18.64.1', 'fd00:198:18:64::1'], ttl: 5, rotate: false },
    'www.github.com': { addresses: [], ttl: 7, rotate: false, cname: 'github.com' },
    'a.test': { addresses: [], ttl: 3, rotate: false, cname: 'b.test' },
    'b.test': { addresses: [], ttl: 3, rotate: false, cname: 'outside.example' },
    'loop1.test': { addresses: [], ttl: 3, rotate: false, cname: 'loop2.test' },
    'loop2.test': { addresses: [], ttl: 3, rotate: false, cname: 'loop1.test' },
    'rr.test': { addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], ttl: 1, rotate: true },
    '*.apps.test': { addresses: ['10.0.0.9'], ttl: 2, rotate: false },
    'exact.apps.test': { addresses: ['10.0.0.8'], ttl: 2, rotate: false },
  },
};

const data = (z: ZoneAnswerer, name: string, type: 'A' | 'AAAA' | 'CNAME' = 'A') => z.resolve(name, type).answers.map((a) => a.data);

test('A and AAAA answers take the addresses of their family; names are case-insensitive', () => {
  const z = new ZoneAnswerer(zone);
  assert.deepEqual(z.resolve('GitHub.com.', 'A'), { rcode: 'NOERROR', answers: [{ name: 'github.com', type: 'A', ttl: 5, data: '198.18.64.1' }] });
  assert.deepEqual(data(z, 'github.com', 'AAAA'), ['fd00:198:18:64::1']);
});

test('a CNAME is followed inside the zone; a chain leaving the zone or looping stops', () => {
  const z = new ZoneAnswerer(zone);
  assert.deepEqual(
    z.resolve('www.github.com', 'A').answers.map((a) => `${a.name} ${a.type} ${a.data} ${a.ttl}`),
    ['www.github.com CNAME github.com 7', 'github.com A 198.18.64.1 5'],
  );
  assert.deepEqual(
    z.resolve('www.github.com', 'CNAME').answers.map((a) => a.data),
    ['github.com'],
  );
  assert.deepEqual(z.resolve('a.test', 'A'), {
    rcode: 'NOERROR',
    answers: [
      { name: 'a.test', type: 'CNAME', ttl: 3, data: 'b.test' },
      { name: 'b.test', type: 'CNAME', ttl: 3, data: 'outside.example' },
    ],
  });
  const loop = z.resolve('loop1.test', 'A');
  assert.equal(loop.rcode, 'NOERROR');
  assert.ok(loop.answers.length <= 9, 'a CNAME loop is cut');
});

test('rotation: each answer starts one address further, per name and family', () => {
  const z = new ZoneAnswerer(zone);
  assert.deepEqual(data(z, 'rr.test'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.deepEqual(data(z, 'rr.test'), ['10.0.0.2', '10.0.0.3', '10.0.0.1']);
  assert.deepEqual(data(z, 'rr.test', 'AAAA'), []);
  assert.deepEqual(data(z, 'rr.test'), ['10.0.0.3', '10.0.0.1', '10.0.0.2']);
  assert.deepEqual(data(z, 'rr.test'), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  assert.deepEqual(data(z, 'github.com'), data(z, 'github.com'), 'no rotation unless asked');
});

test('a CDN-like name: each answer carries one address, a different one each time', () => {
  const z = new ZoneAnswerer({ records: { 'cdn.test': zoneRecord({ addresses: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], ttl: 1, rotate: true, perAnswer: 1 }, 5) } });
  assert.deepEqual(
    [1, 2, 3, 4].map(() => data(z, 'cdn.test')),
    [['10.0.0.1'], ['10.0.0.2'], ['10.0.0.3'], ['10.0.0.1']],
  );
  assert.throws(() => zoneRecord({ addresses: ['10.0.0.1'], perAnswer: 0 }, 5), /per answer/);
  assert.equal(parseZone('{"records":{"cdn.test":{"addresses":["10.0.0.1","10.0.0.2"],"perAnswer":1}}}').records['cdn.test']?.perAnswer, 1);
});

test('wildcards match any depth below, an exact name wins, the apex is not matched', () => {
  const z = new ZoneAnswerer(zone);
  assert.deepEqual(data(z, 'x.apps.test'), ['10.0.0.9']);
  assert.deepEqual(data(z, 'a.b.apps.test'), ['10.0.0.9']);
  assert.deepEqual(data(z, 'exact.apps.test'), ['10.0.0.8']);
  assert.deepEqual(z.resolve('apps.test', 'A'), { rcode: 'NOERROR', answers: [] }, 'apps.test has names below it: no data, not NXDOMAIN');
});

test('unknown names are NXDOMAIN; known names without the type are empty NOERROR', () => {
  const z = new ZoneAnswerer(zone);
  assert.deepEqual(z.resolve('nope.test', 'A'), { rcode: 'NXDOMAIN', answers: [] });
  assert.deepEqual(z.resolve('github.org', 'A'), { rcode: 'NXDOMAIN', answers: [] });
  assert.deepEqual(z.resolve('rr.test', 'CNAME'), { rcode: 'NOERROR', answers: [] });
});

test('names, addresses and TTLs are checked with messages for people', () => {
  assert.equal(normalizeName('Example.COM.'), 'example.com');
  assert.equal(normalizeName('*.example.com', { wildcard: true }), '*.example.com');
  for (const bad of ['', '.', 'a..b', '-a.com', 'a-.com', 'a b.com', '*.example.com', 'x'.repeat(64) + '.com', 'a.com;rm']) {
    assert.throws(() => normalizeName(bad), /is not a DNS name/, bad);
  }
  assert.throws(() => normalizeName('a.*.com', { wildcard: true }), /is not a DNS name/);
  assert.deepEqual(zoneRecord({ addresses: ['10.0.0.1', '10.0.0.1', 'fd00::1'] }, 5), { addresses: ['10.0.0.1', 'fd00::1'], ttl: 5, rotate: false });
  assert.throws(() => zoneRecord({ addresses: ['10.0.0.256'] }, 5), /not an IPv4 or IPv6 address/);
  assert.throws(() => zoneRecord({ addresses: [] }, 5), /at least one address/);
  assert.throws(() => zoneRecord({ addresses: ['10.0.0.1'], ttl: -1 }, 5), /TTL/);
  assert.throws(() => zoneRecord({ addresses: ['10.0.0.1'], ttl: 1.5 }, 5), /TTL/);
  assert.throws(() => zoneRecord({ addresses: ['10.0.0.1'], cname: 'x.com' }, 5), /not both/);
  assert.deepEqual(zoneRecord({ cname: 'X.com.', ttl: 0 }, 5), { addresses: [], ttl: 0, rotate: false, cname: 'x.com' });
  assert.throws(() => parseZone('{"records":{"ok.com":{"addresses":["nope"]}}}'), /not an IPv4/);
});

test('the default zone: the seed names on three different echo addresses, in both families with IPv6', () => {
  for (const ipv6 of [false, true]) {
    const z = new ZoneAnswerer(parseZone(JSON.stringify(defaultZone(ipv6))));
    const first = Object.keys(SEED_NAMES).map((n) => data(z, n));
    assert.equal(new Set(first.map((a) => a.join())).size, 3, 'three different addresses');
    for (const a of first) assert.ok(echoAddresses().some((e) => e.v4 === a[0]) && a.length === 1);
    assert.equal(data(z, 'github.com', 'AAAA').length, ipv6 ? 1 : 0);
    assert.deepEqual(data(z, 'www.github.com').slice(-1), data(z, 'github.com'));
    assert.equal(data(z, 'echo.sluice.test').length, 8);
    assert.notDeepEqual(data(z, 'rr.sluice.test'), data(z, 'rr.sluice.test'), 'rr.sluice.test rotates');
    assert.equal(z.resolve('rr.sluice.test', 'A').answers[0]!.ttl, 1);
  }
});
