/** Workers keep steering to the node that holds a unit's EIPs until its new owner holds them, also once status names the new owner. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { placeOwners, type Placeable } from './owners.js';
import type { Policy } from '../api/model.js';

const EIP = '198.18.0.110';

function placeable(statusNode?: string): Placeable {
  const policy = { key: 'default/web', spec: { gatewayName: 'gw', useNodeIP: false }, status: { ...(statusNode ? { node: statusNode, eipV4: EIP } : {}) } } as unknown as Policy;
  return { policy, eip: { 4: EIP } };
}

const eligible = new Map([['gw', ['a', 'b', 'c']]]);
const holders = (nodes: string[]) => new Map([[EIP, nodes]]);
const group = (statusNode: string | undefined, held: string[]) => placeOwners([placeable(statusNode)], eligible, holders(held)).get('default/web')!;

test('status names the new owner before it holds the EIP (a move the controller wrote first): steer to the sole holder', () => {
  assert.deepEqual(group('b', ['a']), { eips: [EIP], owner: 'b', steerTo: 'a' });
});

test('no steering once the owner holds the EIP, when nobody holds it, or when two others do', () => {
  assert.equal(group('b', ['b']).steerTo, undefined);
  assert.equal(group('b', []).steerTo, undefined, 'a failover: the dead holder is no holder');
  const contested = group('b', ['a', 'c']);
  assert.ok(['a', 'c'].includes(contested.owner!), 'two holders, status names neither: one of them keeps it');
  assert.equal(contested.steerTo, undefined);
});

test('status naming the old owner still steers to it (the drain or label-removal path)', () => {
  const ineligible = new Map([['gw', ['b', 'c']]]);
  const g = placeOwners([placeable('a')], ineligible, holders(['a'])).get('default/web')!;
  assert.equal(g.steerTo, 'a');
  assert.notEqual(g.owner, 'a');
});
