/**
 * Property tests of the parsers over generated objects (lib/api/testing/arbitraries.ts): they
 * never throw, they are deterministic, and whatever they accept is canonical, so nothing that
 * could reach a ruleset or an `ip` batch passes through unvalidated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import * as gen from './testing/arbitraries.js';
import { parseDocument } from './parse-document.js';
import { canonicalIp, formatInterval, type IpInterval } from './ip.js';
import { isDnsLabel, isDnsSubdomain, isInterfaceName } from './names.js';
import { API_VERSION } from './group.js';

const SEED = Number(process.env.SLUICE_FC_SEED ?? Date.now() % 2 ** 31);
const RUNS = Number(process.env.SLUICE_FC_RUNS ?? 300);
const options = { numRuns: RUNS, seed: SEED };

const anyObject = fc.oneof(
  gen.specObject,
  gen.endpointSlice(false),
  gen.endpointSlice(true),
  gen.tunnelStatus.map((status) => ({ apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'node-1' }, status })),
  gen.policyStatus.map((status) => ({
    apiVersion: API_VERSION,
    kind: 'EgressPolicy',
    metadata: { name: 'p', namespace: 'default' },
    spec: { egressGatewayName: 'g', appliedTo: { podSubnet: ['10.0.0.0/8'] } },
    status,
  })),
  gen.clusterInfoStatus.map((status) => ({ apiVersion: API_VERSION, kind: 'EgressClusterInfo', metadata: { name: 'default' }, status })),
  gen.wrongType,
);

/** Every string of the model that names an address is in canonical form. */
function assertCanonicalIp(text: unknown, where: string): void {
  assert.equal(typeof text, 'string', where);
  assert.equal(canonicalIp(text as string), text, `${where}: ${String(text)} is not canonical`);
}

function assertIntervals(ivs: readonly IpInterval[], where: string): void {
  for (const iv of ivs) {
    assert.ok(iv.start <= iv.end, `${where}: reversed interval`);
    assert.ok(iv.end < (iv.family === 4 ? 1n << 32n : 1n << 128n), `${where}: out of range`);
    assert.ok(!(iv.family === 6 && iv.start >> 32n === 0xffffn), `${where}: IPv4-mapped`);
    formatInterval(iv);
  }
}

function assertModelValid(kind: string, value: any): void {
  switch (kind) {
    case 'EgressGateway':
      assertIntervals([...value.poolV4, ...value.poolV6], kind);
      if (value.defaultEipV4) assertCanonicalIp(value.defaultEipV4, 'defaultEipV4');
      if (value.defaultEipV6) assertCanonicalIp(value.defaultEipV6, 'defaultEipV6');
      break;
    case 'EgressPolicy':
    case 'EgressClusterPolicy':
      assert.ok(isDnsSubdomain(value.name) && (kind === 'EgressClusterPolicy' || isDnsLabel(value.namespace)));
      assertIntervals([...value.spec.podSubnet, ...value.spec.destSubnet, ...value.spec.excludeDestSubnet], kind);
      for (const ip of [value.spec.ipv4, value.spec.ipv6, value.status.eipV4, value.status.eipV6]) if (ip !== undefined) assertCanonicalIp(ip, kind);
      if (value.status.node !== undefined) assert.ok(isDnsSubdomain(value.status.node));
      break;
    case 'EgressTunnel':
      for (const key of ['ipv4', 'ipv6', 'parentIpv4', 'parentIpv6']) if (value[key] !== undefined) assertCanonicalIp(value[key], key);
      if (value.parentName !== undefined) assert.ok(isInterfaceName(value.parentName), `parent name ${JSON.stringify(value.parentName)}`);
      if (value.mac !== undefined) assert.match(value.mac, /^[0-9a-f][02468ace](:[0-9a-f]{2}){5}$/);
      if (value.markIndex !== undefined) assert.ok(Number.isInteger(value.markIndex) && value.markIndex >= 1 && value.markIndex <= 0xffffffff);
      break;
    case 'EgressEndpointSlice':
    case 'EgressClusterEndpointSlice':
      for (const e of value.endpoints) {
        assert.ok(isDnsLabel(e.namespace) && isDnsSubdomain(e.pod) && isDnsSubdomain(e.node));
        for (const ip of [...e.ipv4, ...e.ipv6]) assertCanonicalIp(ip, 'endpoint');
      }
      break;
    case 'EgressClusterInfo':
      assertIntervals(value.extraCidr, kind);
      for (const list of Object.values(value.status ?? {}) as string[][]) for (const text of list) assert.match(text, /^[0-9a-f.:/-]+$/);
      break;
  }
}

test(`parsers never throw and are deterministic (${RUNS} objects, seed ${SEED})`, () => {
  fc.assert(
    fc.property(anyObject, (doc) => {
      const first = parseDocument(structuredClone(doc));
      const second = parseDocument(structuredClone(doc));
      assert.deepEqual(first, second);
    }),
    options,
  );
});

test(`whatever the parsers accept is canonical and valid (${RUNS} objects, seed ${SEED})`, () => {
  let accepted = 0;
  fc.assert(
    fc.property(anyObject, (doc) => {
      const result = parseDocument(structuredClone(doc));
      if (!result.object) return;
      accepted++;
      assert.ok(Object.isFrozen(result.object.value));
      assertModelValid(result.object.kind, result.object.value);
    }),
    options,
  );
  assert.ok(accepted > 0, 'the generators must produce accepted objects');
});

test('a hostile parent interface name never reaches the model; the rest of the tunnel does', () => {
  for (const name of ['eth0"; flush ruleset; "', 'x'.repeat(16), 'a b', 'eth0:1', 'a/b', '..', 'eth0\n']) {
    const r = parseDocument({ apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'n1' }, status: { tunnel: { ipv4: '172.31.0.1', parent: { name } }, mark: '2' } });
    assert.ok(r.object && r.object.kind === 'EgressTunnel', name);
    assert.equal(r.object.value.parentName, undefined);
    assert.equal(r.object.value.ipv4, '172.31.0.1');
    assert.equal(r.object.value.markIndex, 2);
    assert.match(r.ignored?.[0]?.path ?? '', /^status\.tunnel\.parent\.name$/);
  }
});
