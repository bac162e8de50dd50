/** A selected pod's traffic leaves through its gateway or not at all: the worker's rules fail closed. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_CONFIG, hereMark } from './config.js';
import { buildNftTable, type NftInput, type PolicyRuleInput } from './nft-rules.js';
import type { NftRule } from './nft/vocabulary.js';

const POLICY: PolicyRuleInput = {
  key: 'default/web',
  setPrefix: 'p_web',
  carriedHere: false,
  local: { 4: ['10.244.1.5'], 6: [] },
  all: { 4: ['10.244.1.5'], 6: [] },
  bySubnet: false,
  subnet: [],
  dest: [],
  exclude: [],
  snat: { 4: '198.18.0.110' },
};

function table(policy: PolicyRuleInput, hasTunnel = true) {
  const input: NftInput = {
    config: DEFAULT_CONFIG,
    clusterCidrs: [],
    nodeIps: { 4: ['198.18.0.11'], 6: [] },
    eips: { 4: [], 6: [] },
    hasTunnel,
    isGateway: false,
    parentInterface: 'eth0',
    policies: [policy],
  };
  return buildNftTable(input);
}
const chain = (t: ReturnType<typeof table>, name: string) => t.chains.find((c) => c.name === name)!.rules;
const verdictOf = (r: NftRule) => r.statements.flatMap((s) => (s.kind === 'verdict' ? [s.verdict] : []))[0];
const marks = (r: NftRule) => r.statements.some((s) => s.kind === 'set');

test("a worker policy steered to a node with a mark marks its pods' packets; one whose node has no mark drops them", () => {
  const steered = chain(table({ ...POLICY, gatewayMark: 1 }), 'egress_mark').find((r) => r.comment === 'worker default/web')!;
  assert.equal(verdictOf(steered), 'accept');
  assert.ok(marks(steered));
  const unsteerable = chain(table({ ...POLICY, unsteerable: true }), 'egress_mark').find((r) => r.comment === 'worker default/web')!;
  assert.equal(verdictOf(unsteerable), 'drop', "never by the node's normal path");
  assert.ok(!marks(unsteerable));
  assert.equal(
    chain(table(POLICY), 'egress_mark').find((r) => r.comment === 'worker default/web'),
    undefined,
    'a policy this node has no role in has no rule',
  );
});

test("a packet with a gateway's mark that is not routed into the tunnel is dropped, with or without a tunnel device", () => {
  for (const hasTunnel of [true, false]) {
    const guard = chain(table({ ...POLICY, gatewayMark: 1 }, hasTunnel), 'egress_forward').find((r) => r.comment === 'marked off the tunnel');
    assert.ok(guard, `hasTunnel ${hasTunnel}`);
    assert.equal(verdictOf(guard), 'drop');
    const text = JSON.stringify(guard.statements);
    // neither unmarked packets nor the gateway's own "SNAT here" mark
    assert.ok(text.includes(`"right":{"kind":"number","value":0}`) && text.includes(`"right":{"kind":"number","value":${hereMark(DEFAULT_CONFIG)}}`), text);
    assert.ok(text.includes(`"op":"!=","right":{"kind":"interface","name":"${DEFAULT_CONFIG.vxlan.device}"}`), text);
  }
});
