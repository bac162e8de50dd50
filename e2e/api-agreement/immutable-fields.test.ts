/**
 * A policy's gateway and egress IP are fixed when it is created (as spidernet's webhook fixes
 * them): the CRDs' transition rules refuse a change, with the field and what to do instead.
 * Everything else stays editable, a default spelled out is no change, and an unset gateway name
 * may be set once (pinning a policy that followed the default).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION } from '../../lib/api/group.js';
import { ApiError } from '../apiserver/api-error.js';
import type { ApiServer } from '../apiserver/server.js';
import type { JsonObject } from '../apiserver/json.js';
import { withSluiceApiServer } from './verdicts.js';

type Spec = Record<string, unknown>;
const base: Spec = { egressGatewayName: 'main', egressIP: { ipv4: '198.18.0.5' }, appliedTo: { podSelector: { matchLabels: { app: 'web' } } } };

function create(server: ApiServer, kind: 'EgressPolicy' | 'EgressClusterPolicy', name: string, spec: Spec): void {
  const metadata = kind === 'EgressPolicy' ? { name, namespace: 'default' } : { name };
  server.store.create({ apiVersion: API_VERSION, kind, metadata, spec } as JsonObject);
}

/** A merge patch as `kubectl patch --type merge` or `kubectl apply` sends it; the error text when refused. */
function patch(server: ApiServer, kind: 'EgressPolicy' | 'EgressClusterPolicy', name: string, spec: Spec): string | undefined {
  try {
    server.store.patch(API_VERSION, kind, name, { spec } as JsonObject, { type: 'merge', ...(kind === 'EgressPolicy' ? { namespace: 'default' } : {}) });
    return undefined;
  } catch (error) {
    if (error instanceof ApiError) return error.message;
    throw error;
  }
}

test('the gateway and the egress IP of a policy cannot change; the rest can', () =>
  withSluiceApiServer(async (server) => {
    for (const kind of ['EgressPolicy', 'EgressClusterPolicy'] as const) {
      create(server, kind, 'fixed', base);
      const refused: [Spec, RegExp][] = [
        [{ egressGatewayName: 'other' }, /spec\.egressGatewayName: .*is immutable once set: create a new policy to use another gateway/],
        [{ egressGatewayName: null }, /spec\.egressGatewayName: .*is immutable once set/],
        [{ egressIP: { ipv4: '198.18.0.6' } }, /spec\.egressIP\.ipv4: .*is immutable: create a new policy to change the egress IP/],
        [{ egressIP: { ipv4: null } }, /spec\.egressIP\.ipv4: .*is immutable/],
        [{ egressIP: { ipv6: 'fd00::5' } }, /spec\.egressIP\.ipv6: .*is immutable/],
        [{ egressIP: { ipv4: null, useNodeIP: true } }, /spec\.egressIP\.(ipv4|useNodeIP): .*is immutable/],
        [{ egressIP: { allocatorPolicy: 'rr' } }, /spec\.egressIP\.allocatorPolicy: .*is immutable/],
      ];
      for (const [change, why] of refused) assert.match(patch(server, kind, 'fixed', change) ?? 'accepted', why, `${kind}: ${JSON.stringify(change)}`);
      const allowed: Spec[] = [
        { appliedTo: { podSelector: { matchLabels: { app: 'api' } } } },
        { destSubnet: ['203.0.113.0/24'], priority: 5 },
        { egressIP: { allocatorPolicy: 'default', useNodeIP: false } },
        { egressGatewayName: 'main', egressIP: { ipv4: '198.18.0.5' } },
      ];
      for (const change of allowed) assert.equal(patch(server, kind, 'fixed', change), undefined, `${kind}: ${JSON.stringify(change)}`);

      // a policy that follows the default gateway may be pinned to one, once
      create(server, kind, 'follows', { appliedTo: { podSubnet: ['10.244.0.0/16'] } });
      assert.equal(patch(server, kind, 'follows', { egressGatewayName: 'main' }), undefined, `${kind}: pinning`);
      assert.match(patch(server, kind, 'follows', { egressGatewayName: 'other' }) ?? 'accepted', /is immutable once set/, `${kind}: then fixed`);
      // and an unset egressIP is the default one: spelling it out is no change, changing it is
      assert.equal(patch(server, kind, 'follows', { egressIP: { allocatorPolicy: 'default' } }), undefined);
      assert.match(patch(server, kind, 'follows', { egressIP: { allocatorPolicy: 'rr' } }) ?? 'accepted', /allocatorPolicy: .*is immutable/);
    }
  }));
