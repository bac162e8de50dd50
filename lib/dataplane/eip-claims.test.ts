import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../planner/plan.js';
import { baseCluster, pod, policy, snapshotOf } from '../planner/testing/cluster.js';
import type { DuplicateAddressProbe } from './announcer/duplicate-probe.js';
import { EipClaims } from './eip-claims.js';

const EIP = '198.18.0.110';
const LAN_HOST_MAC = '02:aa:bb:cc:dd:ee';

/** gateway-1's plan while the policy's EIP is on `holder` (status.node), or with no policy at all. */
function gateway1Plan(holder: string | undefined) {
  const docs = [...baseCluster(), pod('default', 'visitor', 'worker-1', ['10.244.1.5'], { app: 'visitor' })];
  if (holder)
    docs.push(
      policy('default', 'p', { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'visitor' } } } }, { status: { eip: { ipv4: EIP }, node: holder } }),
    );
  return plan(snapshotOf(docs), 'gateway-1');
}

/** A probe that answers from a table, and counts what it was asked. */
function fakeProbe(answers: Map<string, string | Error>): DuplicateAddressProbe & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    probe: async (ip, ifname) => {
      asked.push(`${ip}@${ifname}`);
      const a = answers.get(ip);
      if (a instanceof Error) throw a;
      return a;
    },
  };
}

test('an EIP taken for the first time is probed; one a LAN host answers for is not taken, and is reported', async () => {
  const answers = new Map<string, string | Error>([[EIP, LAN_HOST_MAC]]);
  const probe = fakeProbe(answers);
  let now = 1_000;
  const claims = new EipClaims({ probe, now: () => now, recheckMs: 30_000 });
  const p = gateway1Plan('gateway-1');
  assert.deepEqual(
    p.eips.map((e) => e.ip),
    [EIP],
  );
  const first = await claims.vet(p, new Set());
  assert.deepEqual(probe.asked, [`${EIP}@eth0`]);
  assert.deepEqual(first.eips, []);
  assert.deepEqual(claims.conflicts(), [{ ip: EIP, ifname: 'eth0', mac: LAN_HOST_MAC, since: 1_000 }]);

  // not probed again before the recheck is due; still not taken
  now += 10_000;
  assert.deepEqual((await claims.vet(p, new Set())).eips, []);
  assert.equal(probe.asked.length, 1);

  // the host has gone: the recheck clears the conflict and the EIP is taken
  answers.delete(EIP);
  now += 20_000;
  assert.deepEqual(
    (await claims.vet(p, new Set())).eips.map((e) => e.ip),
    [EIP],
  );
  assert.equal(probe.asked.length, 2);
  assert.deepEqual(claims.conflicts(), []);
});

test('a takeover from another node is never probed: the old holder may still answer', async () => {
  const probe = fakeProbe(new Map([[EIP, '02:00:00:00:00:12']]));
  const claims = new EipClaims({ probe });
  await claims.vet(gateway1Plan('gateway-2'), new Set());
  const taken = await claims.vet(gateway1Plan('gateway-1'), new Set());
  assert.deepEqual(
    taken.eips.map((e) => e.ip),
    [EIP],
  );
  assert.deepEqual(probe.asked, []);
});

test('the plan took the EIP from another node, but a node reports a LAN host answering for it: taking it is probed, and the LAN host keeps it', async () => {
  const probe = fakeProbe(new Map([[EIP, LAN_HOST_MAC]]));
  const claims = new EipClaims({ probe });
  // gateway-2 was planned to carry it, found the LAN host, took nothing and reported it
  const reported = new Set([EIP]);
  await claims.vet(gateway1Plan('gateway-2'), new Set(), new Set(), reported);
  // gateway-2 stalls and leaves the eligible set (its report no longer counts): the plan hands the EIP to gateway-1
  const taken = await claims.vet(gateway1Plan('gateway-1'), new Set(), new Set(), reported);
  assert.deepEqual(probe.asked, [`${EIP}@eth0`]);
  assert.deepEqual(taken.eips, []);
  assert.deepEqual(
    claims.conflicts().map((c) => [c.ip, c.mac]),
    [[EIP, LAN_HOST_MAC]],
  );
});

test('a report of another address does not slow a takeover down', async () => {
  const probe = fakeProbe(new Map([[EIP, '02:00:00:00:00:12']]));
  const claims = new EipClaims({ probe });
  const reported = new Set(['198.18.0.2']);
  await claims.vet(gateway1Plan('gateway-2'), new Set(), new Set(), reported);
  const taken = await claims.vet(gateway1Plan('gateway-1'), new Set(), new Set(), reported);
  assert.deepEqual([taken.eips.map((e) => e.ip), probe.asked], [[EIP], []]);
});

test('holders noted from a plan applied without vetting count: a takeover after it is not probed', async () => {
  const probe = fakeProbe(new Map([[EIP, '02:00:00:00:00:12']]));
  const claims = new EipClaims({ probe });
  await claims.vet(gateway1Plan(undefined), new Set());
  claims.note(gateway1Plan('gateway-2'));
  const taken = await claims.vet(gateway1Plan('gateway-1'), new Set());
  assert.deepEqual([taken.eips.map((e) => e.ip), probe.asked], [[EIP], []]);
});

test('an EIP already on the NIC is not probed; an EIP new to the cluster after the node knew it unused is', async () => {
  const probe = fakeProbe(new Map());
  const claims = new EipClaims({ probe });
  assert.deepEqual(
    (await claims.vet(gateway1Plan('gateway-1'), new Set([EIP]))).eips.map((e) => e.ip),
    [EIP],
  );
  assert.deepEqual(probe.asked, []);
  const fresh = new EipClaims({ probe });
  await fresh.vet(gateway1Plan(undefined), new Set());
  await fresh.vet(gateway1Plan('gateway-1'), new Set());
  assert.deepEqual(probe.asked, [`${EIP}@eth0`]);
});

test('a probe that cannot be made is noted, and the EIP is taken as before', async () => {
  const claims = new EipClaims({ probe: fakeProbe(new Map([[EIP, new Error('EPERM')]])) });
  const vetted = await claims.vet(gateway1Plan('gateway-1'), new Set());
  assert.deepEqual(
    vetted.eips.map((e) => e.ip),
    [EIP],
  );
  assert.match(vetted.notes.join('\n'), /could not probe the LAN for 198\.18\.0\.110 on eth0 \(taken without\): EPERM/);
});

test('right after a restart, an EIP another node holds by the probes is a move, not a first allocation: not probed, and no old conflict kept', async () => {
  const probe = fakeProbe(new Map([[EIP, '02:00:00:00:00:13']]));
  const claims = new EipClaims({ probe });
  const p = gateway1Plan('gateway-1');
  assert.deepEqual(
    (await claims.vet(p, new Set(), new Set([EIP]))).eips.map((e) => e.ip),
    [EIP],
  );
  assert.deepEqual(probe.asked, []);
  // a conflict seen before the peer said it holds the EIP was that peer answering
  const restarted = new EipClaims({ probe });
  assert.deepEqual((await restarted.vet(p, new Set())).eips, []);
  assert.deepEqual(
    (await restarted.vet(p, new Set(), new Set([EIP]))).eips.map((e) => e.ip),
    [EIP],
  );
  assert.deepEqual(restarted.conflicts(), []);
});
