import { test } from 'node:test';
import assert from 'node:assert/strict';
import dnsPacket, { type Answer } from 'dns-packet';
import { addressesFor, decodeAnswer, learnedComment, learnFromAnswer, MAX_TIMEOUT_SECONDS, type DnsRuleTarget } from './learn.js';
import { dnsNameMatches } from './dns-names.js';

function answer(name: string, answers: Answer[], rcode = 'NOERROR') {
  const wire = dnsPacket.encode({
    type: 'response',
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (rcode === 'NXDOMAIN' ? 3 : 0),
    questions: [{ type: 'A', name }],
    answers,
  });
  const decoded = decodeAnswer(wire);
  assert.ok(decoded.ok);
  return decoded.packet;
}

const target = (pattern: string, pods: string[] = ['10.244.1.5']): DnsRuleTarget => ({
  pattern,
  sets: { 4: `s_${pattern}_4`, 6: `s_${pattern}_6` },
  appliesTo: (c) => pods.includes(c),
});

test('names: exact and wildcard, case and trailing dot ignored, the wildcard not matching its own suffix', () => {
  assert.ok(dnsNameMatches('github.com', 'GitHub.com.'));
  assert.ok(!dnsNameMatches('github.com', 'api.github.com'));
  assert.ok(dnsNameMatches('*.example.com', 'a.example.com'));
  assert.ok(dnsNameMatches('*.example.com', 'a.b.Example.COM.'));
  assert.ok(!dnsNameMatches('*.example.com', 'example.com'));
  assert.ok(!dnsNameMatches('*.example.com', 'badexample.com'));
});

test("an answer's addresses go into the sets of the matching rules of the pod that asked, with TTL + grace", () => {
  const packet = answer('github.com', [
    { type: 'A', name: 'github.com', ttl: 30, data: '198.18.1.10' },
    { type: 'A', name: 'github.com', ttl: 1, data: '198.18.1.11' },
    { type: 'AAAA', name: 'github.com', ttl: 60, data: '2001:db8:0:0::10' },
  ]);
  const learned = learnFromAnswer(packet, '10.244.1.5', [target('github.com'), target('google.com')], 5);
  assert.deepEqual(
    learned.map((e) => [e.set, e.address, e.timeoutSeconds, e.name]),
    [
      ['s_github.com_4', '198.18.1.10', 35, 'github.com'],
      ['s_github.com_4', '198.18.1.11', 6, 'github.com'],
      ['s_github.com_6', '2001:db8::10', 65, 'github.com'],
    ],
  );
  assert.deepEqual(learnFromAnswer(packet, '10.244.9.9', [target('github.com')], 5), [], 'a pod the firewall does not select teaches nothing');
  assert.deepEqual(
    learned.map((e) => e.comment),
    ['dns github.com A 198.18.1.10 ttl 30 to 10.244.1.5', 'dns github.com A 198.18.1.11 ttl 1 to 10.244.1.5', 'dns github.com AAAA 2001:db8::10 ttl 60 to 10.244.1.5'],
    'each element says which answer put it there',
  );
});

test('a learned comment keeps to printable text without quotes, and to 120 characters', () => {
  assert.equal(learnedComment('a.test', 4, '198.18.1.1', 5, '::ffff:10.244.1.5'.replace(/^::ffff:/, '')), 'dns a.test A 198.18.1.1 ttl 5 to 10.244.1.5');
  assert.equal(learnedComment('a"b\\c\nd.test', 4, '1.1.1.1', 5, 'x'), 'dns abcd.test A 1.1.1.1 ttl 5 to x');
  assert.ok(learnedComment('x'.repeat(300), 6, '2001:db8::1', 5, 'fd00::5').length <= 120);
});

test('CNAME chains are followed from the queried name; records of other names are not learned', () => {
  const packet = answer('www.example.com', [
    { type: 'CNAME', name: 'www.example.com', ttl: 300, data: 'edge.cdn.test' },
    { type: 'CNAME', name: 'edge.cdn.test', ttl: 300, data: 'pop7.cdn.test' },
    { type: 'A', name: 'pop7.cdn.test', ttl: 20, data: '198.18.2.7' },
    { type: 'A', name: 'unrelated.test', ttl: 20, data: '198.18.2.99' },
  ]);
  assert.deepEqual(
    addressesFor('www.example.com', packet.answers ?? []).map((a) => a.address),
    ['198.18.2.7'],
  );
  const learned = learnFromAnswer(packet, '10.244.1.5', [target('*.example.com')], 0);
  assert.deepEqual(
    learned.map((e) => e.address),
    ['198.18.2.7'],
  );
  assert.equal(learned[0]!.timeoutSeconds, 20);
});

test('a CNAME loop ends; a TTL of 0 still holds for the grace; a huge TTL is capped; duplicates keep the longest', () => {
  const loop = answer('a.test', [
    { type: 'CNAME', name: 'a.test', ttl: 5, data: 'b.test' },
    { type: 'CNAME', name: 'b.test', ttl: 5, data: 'a.test' },
    { type: 'A', name: 'b.test', ttl: 0, data: '198.18.3.1' },
    { type: 'A', name: 'a.test', ttl: 2_000_000_000, data: '198.18.3.2' },
    { type: 'A', name: 'a.test', ttl: 9, data: '198.18.3.1' },
  ]);
  const learned = learnFromAnswer(loop, '10.244.1.5', [target('a.test')], 2);
  assert.deepEqual(
    learned.map((e) => [e.address, e.timeoutSeconds]),
    [
      ['198.18.3.1', 11],
      ['198.18.3.2', MAX_TIMEOUT_SECONDS],
    ],
  );
});

test('errors and non-answers teach nothing; garbage does not decode', () => {
  const nx = answer('github.com', [], 'NXDOMAIN');
  assert.deepEqual(learnFromAnswer(nx, '10.244.1.5', [target('github.com')], 5), []);
  assert.equal(decodeAnswer(Buffer.from([1, 2, 3])).ok, false);
  const query = dnsPacket.encode({ type: 'query', id: 1, questions: [{ type: 'A', name: 'github.com' }] });
  assert.deepEqual(decodeAnswer(query), { ok: false, reason: 'not a response' });
});
