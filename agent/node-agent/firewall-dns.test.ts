import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { NftDriver } from '../../lib/dataplane/nft/nft-driver.js';
import { quietLog } from '../../lib/dataplane/nft/testing/lab-fixtures.js';
import { NO_TABLE, OK, ScriptedBackend } from '../../lib/dataplane/nft/testing/scripted-backend.js';
import { Metrics } from '../../lib/metrics/metrics.js';
import type { FirewallNameRule } from '../../lib/planner/firewall-rules.js';
import { buildDnsSteering } from '../../lib/planner/firewall-dns-steering.js';
import type { NftTablePlan } from '../../lib/planner/node-plan.js';
import { FirewallDns } from './firewall-dns.js';

const UPSTREAM = '10.96.0.10';
const rule: FirewallNameRule = { firewall: 'apps/a', index: 0, pattern: 'github.com', sets: { 4: 'f_x_n0_4', 6: 'f_x_n0_6' }, clients: new Set(['10.244.1.5']) };

function tableWith(rules: readonly FirewallNameRule[]): NftTablePlan {
  const steering = buildDnsSteering({ nameRules: rules, port: 15353, nodeAddress: { 4: '127.0.0.1' } });
  return { family: 'inet', name: 'sluice', sets: steering.sets, chains: steering.chain ? [steering.chain] : [] };
}

test('an apply that creates the steer set again fills it in its own transaction, and the forwarder serves the pods steered by it', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const nft = new NftDriver({
    backend,
    table: 'sluice',
    log: quietLog,
    kernelReads: { rules: () => [], structureComment: () => null, table: () => null },
    kernelWrites: false,
    learnedRenewal: 'expires',
  });
  const dns = new FirewallDns({ port: 0, upstream: UPSTREAM, graceSeconds: 5, nft, metrics: new Metrics(), log: pino({ level: 'silent' }) });
  try {
    // Steered, then the node's last pod with rules by name goes: the set goes with it.
    await nft.apply(tableWith([rule]));
    await dns.update([rule], ['127.0.0.1']);
    await nft.apply(tableWith([]));
    await dns.update([], ['127.0.0.1']);
    backend.calls.length = 0;
    // A new pod of the firewall: the set is created again by the apply, steered from its first packet.
    const next = { ...rule, clients: new Set(['10.244.1.6']) };
    dns.prepare([next]);
    const r = await nft.apply(tableWith([next]));
    assert.equal(r.mode, 'restructure');
    assert.equal(backend.writes.length, 1);
    assert.match(backend.writes[0]!.commands, /"name":"dns_steer4","elem":\[\{"elem":\{"val":"10\.96\.0\.10"/, 'the steer element is in the transaction that creates its set');
  } finally {
    await dns.stop();
  }
});
