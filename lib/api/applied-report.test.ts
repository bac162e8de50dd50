import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boundedMessage, parseAppliedReport } from './applied-report.js';
import { APPLIED_MESSAGE_MAX, APPLIED_POLICIES_MAX } from './limits.js';

const entry = (name: string, extra: Record<string, unknown> = {}) => ({ namespace: 'default', name, generation: 2, node: 'gw-1', ...extra });

test('a valid report: entries keyed as policies are (ns/name, or name for a cluster policy)', () => {
  const { report, problems } = parseAppliedReport({ result: 'Applied', policies: [entry('web'), { name: 'all', generation: 7, node: 'gw-2' }] });
  assert.deepEqual(problems, []);
  assert.equal(report?.result, 'Applied');
  assert.equal(report?.truncated, false);
  assert.deepEqual(report?.policies.get('default/web'), { key: 'default/web', generation: 2, node: 'gw-1' });
  assert.deepEqual(report?.policies.get('all'), { key: 'all', generation: 7, node: 'gw-2' });
});

test('no report, or one that is not usable as a whole, gives no report and says why', () => {
  assert.deepEqual(parseAppliedReport(undefined), { problems: [] });
  for (const raw of ['Applied', [], { policies: [] }, { result: 'Done' }, { result: 1 }]) {
    const parsed = parseAppliedReport(raw);
    assert.equal(parsed.report, undefined, JSON.stringify(raw));
    assert.equal(parsed.problems.length, 1, JSON.stringify(raw));
  }
});

test('hostile entries are left out one by one; a policy listed twice is left out both times', () => {
  const { report, problems } = parseAppliedReport({
    result: 'Applied',
    code: 'rm -rf /',
    policies: [
      entry('ok'),
      entry('Bad_Name'),
      entry('neg', { generation: -1 }),
      entry('frac', { generation: 1.5 }),
      entry('huge', { generation: 2 ** 60 }),
      entry('str', { generation: '3' }),
      entry('nons', { namespace: 'Not A Namespace' }),
      entry('nonode', { node: '' }),
      entry('twice'),
      entry('twice', { generation: 9 }),
      entry('twice', { generation: 10 }),
      'not an object',
    ],
  });
  assert.deepEqual([...report!.policies.keys()], ['default/ok']);
  assert.equal(report!.code, undefined, 'a code that is not one of ours is dropped');
  assert.equal(problems.length, 6, 'five problems named, the rest counted');
  assert.match(problems.at(-1)!, /^and \d+ more$/);
});

test('more entries than the limit: the rest is ignored and the report counts as truncated', () => {
  const policies = Array.from({ length: APPLIED_POLICIES_MAX + 3 }, (_, i) => entry(`p-${i}`));
  const { report, problems } = parseAppliedReport({ result: 'Applied', policies });
  assert.equal(report!.policies.size, APPLIED_POLICIES_MAX);
  assert.equal(report!.truncated, true);
  assert.match(problems[0]!, /more than 2048/);
});

test('a failure keeps a known-shaped code and one bounded line of printable text', () => {
  const { report } = parseAppliedReport({ result: 'Failed', code: 'EGW_ERR_NETLINK', message: `links:\n\u001b[31mboom\r\n${'x'.repeat(5000)}` });
  assert.equal(report!.code, 'EGW_ERR_NETLINK');
  assert.ok(report!.message!.length <= APPLIED_MESSAGE_MAX);
  assert.doesNotMatch(report!.message!, /[\u0000-\u001f]/);
  assert.ok(report!.message!.startsWith('links: [31mboom x'));
  assert.equal(boundedMessage('  a\tb  '), 'a b');
});
