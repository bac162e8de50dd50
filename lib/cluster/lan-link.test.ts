import { test } from 'node:test';
import assert from 'node:assert/strict';
import { API_VERSION, LAN_ANNOTATION } from '../api/group.js';
import { parseDocument } from '../api/parse-document.js';
import { lanLinkText } from './lan-link.js';

test('the published lan annotation reads back as the same link, IPv4 first', () => {
  const link = { mac: '02:aa:00:00:00:01', addresses: ['fd00:198:18::11/64', '198.18.0.11/24'] };
  const text = lanLinkText(link);
  assert.equal(text, '02:aa:00:00:00:01 198.18.0.11/24 fd00:198:18::11/64');
  const o = parseDocument({ apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'n', annotations: { [LAN_ANNOTATION]: text } } }).object;
  assert.ok(o?.kind === 'EgressTunnel');
  assert.deepEqual(o.value.lan, { mac: link.mac, addresses: ['198.18.0.11/24', 'fd00:198:18::11/64'] });
});
