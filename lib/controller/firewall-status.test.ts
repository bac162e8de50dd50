import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDocument } from '../api/parse-document.js';
import { API_VERSION } from '../api/group.js';
import type { Firewall } from '../api/model.js';
import { desiredFirewallStatus, rejectedFirewallStatus } from './firewall-status.js';

const doc = (spec: unknown) => ({ apiVersion: API_VERSION, kind: 'EgressFirewall', metadata: { name: 'fw', namespace: 'apps', generation: 3 }, spec });

test('an accepted firewall is Ready with its rule count, default and its dnsName rules named', () => {
  const r = parseDocument(
    doc({
      defaultAction: 'Deny',
      egress: [
        { type: 'Allow', to: { dnsName: 'github.com' } },
        { type: 'Allow', to: { cidrSelector: '10.0.0.0/8' } },
      ],
    }),
  );
  const s = desiredFirewallStatus(r.object!.value as Firewall);
  assert.equal(s.rules, 2);
  assert.deepEqual(
    s.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
    [
      ['Accepted', 'True', 'Accepted', 3],
      ['Ready', 'True', 'Ready', 3],
    ],
  );
  assert.match(s.conditions[1]!.message, /2 rules, default Deny, on the nodes of the selected pods; 1 dnsName rule match only addresses learned/);
});

test('a rejected firewall says why, field by field, and that nothing of it is enforced', () => {
  const r = parseDocument(
    doc({
      egress: [
        { type: 'Allow', to: { cidrSelector: '10.0.0.1/8' } },
        { type: 'Allow', to: { dnsName: 'a' }, ports: [{ protocol: 'TCP', port: 70000 }] },
      ],
    }),
  );
  assert.equal(r.object, undefined);
  const s = rejectedFirewallStatus(r.problems, 3);
  assert.equal(s.rules, undefined);
  assert.deepEqual(
    s.conditions.map((c) => [c.type, c.status, c.reason]),
    [
      ['Accepted', 'False', 'Invalid'],
      ['Ready', 'False', 'Invalid'],
    ],
  );
  assert.match(s.conditions[0]!.message, /spec\.egress\[0\]\.to\.cidrSelector: .*; spec\.egress\[1\]\.ports\[0\]\.port: must be between 1 and 65535/);
});
