import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  EIP_FIRST_HOST,
  EIP_LAST_HOST,
  ECHO_ADDRESS_COUNT,
  ECHO_POOL_V4_CIDR,
  echoPoolAddresses,
  MAX_NODES,
  echoAddresses,
  upstreamDns,
  eipRangeV4,
  eipRangeV6,
  nextPodHost,
  nodeLan,
  nodePodCidrs,
  podAddr,
  podGateway,
} from './addressing.js';

test('nodes, pods and gateways follow the documented plan', () => {
  assert.deepEqual(nodeLan(1), { v4: '198.18.0.11', v6: 'fd00:198:18::11' });
  assert.deepEqual(nodePodCidrs(3), { v4: '10.244.3.0/24', v6: 'fd00:10:244:3::/64' });
  assert.deepEqual(podGateway(2), { v4: '10.244.2.1', v6: 'fd00:10:244:2::1' });
  assert.deepEqual(podAddr(2, 7), { v4: '10.244.2.7', v6: 'fd00:10:244:2::7' });
});

test('the EIP range is at least 50 addresses and no node address falls into it', () => {
  assert.equal(eipRangeV4, '198.18.0.100-198.18.0.199');
  assert.equal(eipRangeV6, 'fd00:198:18::100-fd00:198:18::199');
  assert.ok(EIP_LAST_HOST - EIP_FIRST_HOST + 1 >= 50);
  const lastNodeHost = Number(nodeLan(MAX_NODES).v4.split('.')[3]);
  assert.ok(lastNodeHost < EIP_FIRST_HOST, `node .${lastNodeHost} overlaps the EIP range`);
});

test('out-of-range indexes are refused', () => {
  for (const bad of [0, MAX_NODES + 1, 1.5]) assert.throws(() => nodeLan(bad), /out of range/);
  for (const bad of [0, 255]) assert.throws(() => podAddr(1, bad), /out of range/);
});

test('nextPodHost takes the lowest free host part from 2 and reports a full node', () => {
  const cases: Array<{ name: string; used: number[]; want: number | undefined }> = [
    { name: 'empty node', used: [], want: 2 },
    { name: 'gap is reused', used: [2, 4], want: 3 },
    { name: 'full node', used: Array.from({ length: 253 }, (_, i) => i + 2), want: undefined },
  ];
  for (const c of cases) assert.equal(nextPodHost(c.used), c.want, c.name);
});

test("the lab's internet: eight echo addresses and the DNS server, outside every cluster range", () => {
  const echo = echoAddresses();
  assert.equal(echo.length, ECHO_ADDRESS_COUNT);
  assert.ok(ECHO_ADDRESS_COUNT >= 8);
  assert.deepEqual(echo[0], { v4: '198.18.64.1', v6: 'fd00:198:18:64::1' });
  assert.deepEqual(upstreamDns(), { v4: '198.18.64.53', v6: 'fd00:198:18:64::53' });
  const all = [...echo.map((a) => a.v4), upstreamDns().v4];
  assert.equal(new Set(all).size, all.length);
  for (const ip of all) assert.ok(ip.startsWith('198.18.64.'), `${ip} is neither the node LAN, the second segment nor the tunnel range`);
});

test("the echo pool: about a thousand distinct addresses of its own block, none of them another host's", () => {
  const pool = echoPoolAddresses();
  assert.equal(pool.length, 1022);
  assert.equal(new Set(pool).size, pool.length);
  assert.equal(pool[0], '198.18.68.1');
  assert.equal(pool.at(-1), '198.18.71.254');
  const others = new Set([...echoAddresses().map((a) => a.v4), upstreamDns().v4]);
  for (const ip of pool) {
    assert.match(ip, /^198\.18\.(6[89]|7[01])\.\d+$/, `${ip} is outside ${ECHO_POOL_V4_CIDR}`);
    assert.ok(!others.has(ip));
  }
});
