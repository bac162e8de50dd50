import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EgressError } from '../../errors.js';
import type { NftTablePlan } from '../../planner/node-plan.js';
import type { LearnedRenewal } from '../../planner/nft/render.js';
import { accept, addressInSet, counter, rule } from '../../planner/nft/statements.js';
import { fingerprintComment, structureFingerprint } from './fingerprint.js';
import { NftDriver, type CountedRule } from './nft-driver.js';
import { ElementsRefused } from './nfnetlink-elements.js';
import { quietLog } from './testing/lab-fixtures.js';
import { NO_TABLE, OK, ScriptedBackend } from './testing/scripted-backend.js';

const table: NftTablePlan = {
  family: 'inet',
  name: 'sluice',
  sets: [{ name: 'pods4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.5', '10.244.1.6'] }],
  chains: [
    {
      name: 'egress_input',
      type: 'filter',
      hook: 'input',
      priority: { base: 'filter', offset: 0 },
      rules: [rule([addressInSet(4, 'saddr', '==', 'pods4'), counter, accept], 'p')],
    },
  ],
};
const ADD_7 = JSON.stringify({ nftables: [{ add: { element: { family: 'inet', table: 'sluice', name: 'pods4', elem: ['10.244.1.7'] } } }] });
const plusOne: NftTablePlan = { ...table, sets: [{ ...table.sets[0]!, elements: ['10.244.1.5', '10.244.1.6', '10.244.1.7'] }] };

/** What libnftables prints for `table` as it stands in the kernel, with `sizes` on its sets. */
function kernelHolding(t: NftTablePlan, comment = fingerprintComment(structureFingerprint(t)), sizes: Record<string, number> = {}) {
  return (commands: string, options: { json?: boolean }) => {
    if (!commands.startsWith('list ')) return OK;
    if (!options.json) return { ...OK, output: `table inet sluice {\n\tset pods4 {\n\t}\n\tchain structure {\n\t\treturn comment "${comment}"\n\t}\n}\n` };
    const nftables = [
      { table: { family: 'inet', name: 'sluice', handle: 1 } },
      ...t.sets.map((s) => ({
        set: { family: 'inet', table: 'sluice', name: s.name, type: s.type, handle: 2, elem: s.elements, ...(sizes[s.name] ? { size: sizes[s.name] } : {}) },
      })),
      ...t.chains.map((c) => ({ chain: { family: 'inet', table: 'sluice', name: c.name, type: c.type, hook: c.hook, prio: 0, policy: 'accept' } })),
      { chain: { family: 'inet', table: 'sluice', name: 'structure', handle: 3 } },
      ...t.chains.flatMap((c) => c.rules.map((_, i) => ({ rule: { family: 'inet', table: 'sluice', chain: c.name, handle: 10 + i, expr: [] } }))),
      { rule: { family: 'inet', table: 'sluice', chain: 'structure', handle: 99, comment, expr: [{ return: null }] } },
    ];
    return { ...OK, output: JSON.stringify({ nftables }) };
  };
}

const noNetlink = (): never => {
  throw new Error('no netlink in unit tests');
};

/**
 * A driver whose netlink reads and writes fail, so everything goes through the scripted backend
 * (reads unless given); learned elements renewed in place unless told (no probe).
 */
const driverOn = (
  backend: ScriptedBackend,
  rules: () => readonly CountedRule[] = noNetlink,
  structureComment: () => string | null = noNetlink,
  learnedRenewal: LearnedRenewal | 'probe' = 'expires',
) =>
  new NftDriver({
    backend,
    table: 'sluice',
    log: quietLog,
    kernelReads: { rules, structureComment, table: noNetlink },
    kernelWrites: { learned: noNetlink },
    ...(learnedRenewal !== 'probe' ? { learnedRenewal } : {}),
  });

test('refuses a plan for any other table without sending anything', async () => {
  const backend = new ScriptedBackend(() => OK);
  const driver = driverOn(backend);
  await assert.rejects(driver.apply({ ...table, name: 'foreign' }), (err: unknown) => err instanceof EgressError && err.code === 'EGW_ERR_NFT');
  assert.equal(backend.calls.length, 0);
});

test('first apply on an empty kernel: one replace batch; then memory answers', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const driver = driverOn(backend);
  const first = await driver.apply(table);
  assert.deepEqual([first.mode, first.writes, first.basis, first.reason], ['replace', 3, 'kernel', 'absent']);
  assert.equal(backend.writes.length, 1);
  assert.equal(backend.writes[0]!.options.json, true);
  assert.match(backend.writes[0]!.commands, /^\{"nftables":\[\{"add":\{"table":/);
  backend.calls.length = 0;
  const next = await driver.apply(plusOne);
  assert.deepEqual([next.mode, next.writes, next.basis, next.elementsAdded], ['elements', 1, 'memory', 1]);
  assert.deepEqual(
    backend.calls.map((c) => [c.commands, c.options.json]),
    [[ADD_7, true]],
  );
  assert.equal((await driver.apply(plusOne)).writes, 0);
  assert.equal(backend.calls.length, 1, 'an unchanged plan is not even listed');
});

test('adopts a kernel table with our fingerprint and diffs its elements', async () => {
  const backend = new ScriptedBackend(kernelHolding(table));
  const r = await driverOn(backend).apply(plusOne);
  assert.deepEqual([r.mode, r.basis, r.elementsAdded, r.elementsRemoved], ['elements', 'kernel', 1, 0]);
  assert.deepEqual(
    backend.writes.map((c) => c.commands),
    [ADD_7],
  );
  assert.ok(backend.calls.filter((c) => c.commands.startsWith('list ')).every((c) => c.options.listing));
});

test('replaces a table with a foreign comment without reading its elements', async () => {
  const backend = new ScriptedBackend(kernelHolding(table, 'made by hand'));
  const r = await driverOn(backend).apply(table);
  assert.deepEqual([r.mode, r.reason], ['replace', 'foreign-or-old']);
  assert.equal(backend.calls.filter((c) => c.commands.startsWith('list ') && c.options.json).length, 0);
});

test('a rejected batch throws with the error of a dry-run check of its text, and makes the next apply look at the kernel', async () => {
  const backend = new ScriptedBackend((c, o) => {
    if (c.startsWith('list ')) return NO_TABLE;
    if (o.json) return { ok: false, output: '', error: 'internal:0:0-0: Error: Could not process rule: No such file or directory\n' };
    return { ok: false, output: '', error: 'batch:9:5-9: Error: Could not process rule: No such file or directory\n' };
  });
  const driver = driverOn(backend);
  await assert.rejects(
    driver.apply(table),
    (err: unknown) => err instanceof EgressError && err.code === 'EGW_ERR_NFT' && /replacing table inet sluice: batch:9:5-9: Error/.test(err.message),
  );
  // Only JSON is ever committed: the text goes out as a dry run, to locate the error.
  assert.deepEqual(
    backend.writes.map((w) => [w.options.json === true, w.options.dryRun === true, w.commands.slice(0, 9)]),
    [
      [true, false, '{"nftable'],
      [false, true, 'add table'],
    ],
  );
  backend.answer = kernelHolding(table);
  const r = await driver.apply(table);
  assert.deepEqual([r.mode, r.basis, r.writes], ['none', 'kernel', 0]);
});

test('when the dry run finds nothing, the JSON error is reported as it is', async () => {
  const backend = new ScriptedBackend((c, o) => (c.startsWith('list ') ? NO_TABLE : o.json ? { ok: false, output: '', error: 'json says no\n' } : OK));
  await assert.rejects(driverOn(backend).apply(table), (err: unknown) => err instanceof EgressError && /json says no/.test(err.message));
});

test('a table holding a value outside the vocabulary is refused before anything is sent', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const hostile = JSON.parse(JSON.stringify(table)) as { chains: { rules: { comment: string }[] }[] };
  hostile.chains[0]!.rules[0]!.comment = 'p" ; add table ip evil { chain c { type filter hook input priority 0 ; } } #';
  await assert.rejects(driverOn(backend).apply(hostile as unknown as NftTablePlan), { code: 'EGW_ERR_NFT_VALUE' });
  assert.deepEqual(backend.writes, []);
});

test('replace: true reloads even an unchanged plan', async () => {
  const backend = new ScriptedBackend(kernelHolding(table));
  const driver = driverOn(backend);
  await driver.apply(table);
  const r = await driver.apply(table, { replace: true });
  assert.deepEqual([r.mode, r.reason, r.basis], ['replace', 'forced', 'none']);
});

test('counters sum per comment from the rule dump, without touching libnftables', async () => {
  const backend = new ScriptedBackend(() => OK);
  const rules = [
    { comment: 'snat default/test', counter: { packets: 2, bytes: 120 } },
    { comment: 'snat default/test', counter: { packets: 1, bytes: 80 } },
    { comment: 'no counter' },
    { counter: { packets: 9, bytes: 9 } },
  ];
  const counters = await driverOn(backend, () => rules).counters();
  assert.deepEqual([...counters], [['snat default/test', { packets: 3, bytes: 200 }]]);
  assert.equal(backend.calls.length, 0);
});

test('counters fall back to a libnftables listing when the dump fails', async () => {
  const listing = {
    nftables: [
      { chain: { family: 'inet', table: 'sluice', name: 'egress_snat', type: 'nat', hook: 'postrouting', prio: 90 } },
      { rule: { family: 'inet', table: 'sluice', chain: 'egress_snat', handle: 4, comment: 'snat default/test', expr: [{ counter: { packets: 5, bytes: 300 } }] } },
    ],
  };
  const backend = new ScriptedBackend(() => ({ ...OK, output: JSON.stringify(listing) }));
  const counters = await driverOn(backend).counters();
  assert.deepEqual([...counters], [['snat default/test', { packets: 5, bytes: 300 }]]);
  assert.deepEqual(
    backend.calls.map((c) => [c.commands, c.options.json, c.options.terse]),
    [['list table inet sluice\n', true, true]],
  );
});

test('the fingerprint comes from netlink when it can: a foreign table is replaced without any listing', async () => {
  const backend = new ScriptedBackend(() => OK);
  const r = await driverOn(backend, noNetlink, () => 'made by hand').apply(table);
  assert.deepEqual([r.mode, r.reason], ['replace', 'foreign-or-old']);
  assert.deepEqual(
    backend.calls.filter((c) => c.commands.startsWith('list ')),
    [],
  );
});

test('a set at its size is reloaded with room instead of overflowing it (memory and kernel)', async () => {
  const big = (n: number): NftTablePlan => ({ ...table, sets: [{ ...table.sets[0]!, elements: Array.from({ length: n }, (_, i) => `10.244.${i >> 8}.${i & 255}`) }] });
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const driver = driverOn(backend);
  await driver.apply(big(1100));
  const sized = JSON.parse(backend.writes[0]!.commands) as { nftables: { add?: { set?: { size?: number } } }[] };
  const size = sized.nftables.find((c) => c.add?.set)?.add?.set?.size;
  assert.equal(size, 2048);
  assert.equal((await driver.apply(big(2048))).mode, 'elements');
  const full = await driver.apply(big(2049));
  assert.deepEqual([full.mode, full.reason, full.basis], ['replace', 'set-full', 'memory']);
  // A fresh driver reads the size from the kernel's listing.
  const kernel = new ScriptedBackend(kernelHolding(big(2048), undefined, { pods4: 2048 }));
  const fresh = await driverOn(kernel).apply(big(2049));
  assert.deepEqual([fresh.mode, fresh.reason, fresh.basis], ['replace', 'set-full', 'kernel']);
  const room = new ScriptedBackend(kernelHolding(big(2000), undefined, { pods4: 2048 }));
  assert.equal((await driverOn(room).apply(big(2048))).mode, 'elements');
});

test('learning: answers that arrive during a transaction share the next one; a batch nft refuses is retried answer by answer', async () => {
  const backend = new ScriptedBackend((c) => (c.includes('"name":"missing"') ? { ok: false, output: '', error: 'Error: No such file or directory' } : OK));
  const driver = driverOn(backend);
  const el = (set: string, address: string, timeoutSeconds = 10) => ({ set, family: 4 as const, address, timeoutSeconds });
  // Three answers queued before the first transaction starts: one transaction, the longest timeout of a duplicate kept.
  const first = driver.learn([el('f_a_n0_4', '198.18.1.1')]);
  const second = driver.learn([el('f_a_n0_4', '198.18.1.2'), el('f_a_n0_4', '198.18.1.3', 5)]);
  const third = driver.learn([el('f_a_n0_4', '198.18.1.3', 30)]);
  await Promise.all([first, second, third]);
  assert.equal(backend.writes.length, 1, 'one transaction for three answers');
  const batch = JSON.parse(backend.writes[0]!.commands) as { nftables: { add?: { element: { elem: { elem: { val: string; timeout: number } }[] } } }[] };
  assert.deepEqual(
    batch.nftables[0]!.add!.element.elem.map((e) => [e.elem.val, e.elem.timeout]),
    [
      ['198.18.1.1', 10],
      ['198.18.1.2', 10],
      ['198.18.1.3', 30],
    ],
  );
  // While a transaction runs, new answers wait for the next one, together.
  backend.calls.length = 0;
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const run = backend.run.bind(backend);
  backend.run = async (c, o) => {
    await gate;
    return run(c, o);
  };
  const running = driver.learn([el('f_a_n0_4', '198.18.2.1')]);
  await new Promise((r) => setImmediate(r));
  const during = [driver.learn([el('f_a_n0_4', '198.18.2.2')]), driver.learn([el('f_a_n0_4', '198.18.2.3')])];
  await new Promise((r) => setImmediate(r));
  assert.equal(backend.calls.length, 0, 'the first transaction is still running');
  release();
  await Promise.all([running, ...during]);
  backend.run = run;
  assert.equal(backend.writes.length, 2, 'the first answer alone, then the two that came while it ran');
  backend.calls.length = 0;
  // A held element is not rewritten for a shorter timeout.
  await driver.learn([el('f_a_n0_4', '198.18.1.3', 5)]);
  assert.equal(backend.writes.length, 0);
  // One answer's set is missing: its caller fails, the other's elements are learned all the same.
  const blocker = driver.learn([el('f_a_n0_4', '198.18.1.9')]);
  const bad = driver.learn([el('missing', '198.18.1.4')]);
  const good = driver.learn([el('f_a_n0_4', '198.18.1.5')]);
  await blocker;
  await assert.rejects(bad, (err: unknown) => err instanceof EgressError && err.code === 'EGW_ERR_NFT');
  await good;
  assert.ok(backend.writes.at(-1)!.commands.includes('198.18.1.5'), 'the good answer was retried on its own');
});

/** Holds every backend call until `release()`; calls made meanwhile are counted in `held`. */
function gated(backend: ScriptedBackend) {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const run = backend.run.bind(backend);
  let held = 0;
  backend.run = async (c, o) => {
    held++;
    await gate;
    return run(c, o);
  };
  return { release: () => (release(), (backend.run = run)), held: () => held };
}

const settledWithin = (p: Promise<unknown>, ms: number) => Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);
const learnedSet: NftTablePlan = { ...table, sets: [...table.sets, { name: 'f_a_n0_4', type: 'ipv4_addr', interval: false, learned: true, elements: [] }] };
const el = (address: string, timeoutSeconds = 10) => ({ set: 'f_a_n0_4', family: 4 as const, address, timeoutSeconds });

test('learning: an answer whose addresses the kernel already holds long enough is answered at once, without a write, even while a transaction runs', async () => {
  const backend = new ScriptedBackend(() => OK);
  const driver = driverOn(backend);
  await driver.learn([el('198.18.3.1', 60)]);
  assert.equal(backend.writes.length, 1);
  backend.calls.length = 0;
  const gate = gated(backend);
  const other = driver.learn([el('198.18.3.2')]);
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.held(), 1, 'a transaction for another answer is running');
  assert.equal(await settledWithin(driver.learn([el('198.18.3.1', 30)]), 200), true, 'the held address did not wait for it');
  assert.equal(await settledWithin(driver.learn([el('198.18.3.1', 30), el('198.18.3.3')]), 50), false, 'an answer with one new address waits');
  gate.release();
  await other;
  assert.ok(
    backend.writes.every((w) => !w.commands.includes('198.18.3.1')),
    'the held address was never written again',
  );
  // A longer timeout than the kernel holds is written.
  backend.calls.length = 0;
  await driver.learn([el('198.18.3.1', 600)]);
  assert.equal(backend.writes.length, 1);
});

test('learning: a table replace carries the learned addresses, so held ones are answered at once while it runs; after a remove they are written again', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const driver = driverOn(backend);
  await driver.apply(learnedSet);
  await driver.learn([el('198.18.4.1', 60)]);
  backend.calls.length = 0;
  const gate = gated(backend);
  const replaced = driver.apply(
    { ...learnedSet, chains: [{ ...learnedSet.chains[0]!, rules: [...learnedSet.chains[0]!.rules, ...learnedSet.chains[0]!.rules] }] },
    { replace: true },
  );
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.held(), 1, 'the replace is running');
  assert.equal(await settledWithin(driver.learn([el('198.18.4.1', 30)]), 200), true, 'the held address did not wait for the replace');
  gate.release();
  const result = await replaced;
  assert.equal(backend.writes.length, 1, 'one transaction: the table and its learned addresses');
  const batch = JSON.parse(backend.writes[0]!.commands) as { nftables: Record<string, { element?: { name: string; elem: { elem: { val: string; timeout: number } }[] } }>[] };
  const learned = batch.nftables.flatMap((c) => (c.add?.element ? [c.add.element] : []));
  assert.equal(learned.length, 1);
  assert.equal(learned[0]!.name, 'f_a_n0_4');
  assert.equal(learned[0]!.elem[0]!.elem.val, '198.18.4.1');
  assert.ok(learned[0]!.elem[0]!.elem.timeout >= 59 && learned[0]!.elem[0]!.elem.timeout <= 60, 'what is left of its time, rounded up');
  assert.equal(result.writes, 4);
  // Removed with the table: the next answer writes it again.
  await driver.remove();
  await driver.apply(learnedSet);
  backend.calls.length = 0;
  await driver.learn([el('198.18.4.1', 30)]);
  assert.equal(backend.writes.length, 1);
  assert.ok(backend.writes[0]!.commands.includes('198.18.4.1'));
});

test('learning: a replace leaves out learned addresses whose set the new table lacks, and those that expired', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const driver = driverOn(backend);
  const two: NftTablePlan = { ...learnedSet, sets: [...learnedSet.sets, { name: 'f_b_n0_4', type: 'ipv4_addr', interval: false, learned: true, elements: [] }] };
  await driver.apply(two);
  await driver.learn([el('198.18.6.1', 60), { ...el('198.18.6.2', 60), set: 'f_b_n0_4' }]);
  backend.calls.length = 0;
  await driver.apply(learnedSet, { replace: true });
  assert.ok(backend.writes[0]!.commands.includes('198.18.6.1'));
  assert.ok(!backend.writes[0]!.commands.includes('198.18.6.2'), 'its set is gone');
});

test('standing learned elements: an apply that creates their set fills it in the same transaction; none once they are dropped', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list ') ? NO_TABLE : OK));
  const driver = driverOn(backend);
  const bare: NftTablePlan = { ...learnedSet, sets: [] };
  const steer = { set: 'dns_steer4', family: 4 as const, address: '10.96.0.10', timeoutSeconds: 3 };
  driver.keepLearned([steer]);
  await driver.apply(bare);
  assert.ok(!backend.writes[0]!.commands.includes('10.96.0.10'), 'no set, nothing written for it');
  backend.calls.length = 0;
  const steered: NftTablePlan = { ...learnedSet, sets: [...learnedSet.sets, { name: 'dns_steer4', type: 'ipv4_addr', interval: false, learned: true, elements: [] }] };
  const r = await driver.apply(steered);
  assert.equal(r.mode, 'restructure');
  assert.equal(backend.writes.length, 1, 'one transaction');
  assert.match(
    backend.writes[0]!.commands,
    /"name":"dns_steer4","elem":\[\{"elem":\{"val":"10\.96\.0\.10","timeout":3/,
    'the new set is filled in the transaction that creates it',
  );
  driver.keepLearned([]);
  backend.calls.length = 0;
  await driver.apply(bare);
  await driver.apply(steered);
  assert.ok(!backend.writes.at(-1)!.commands.includes('10.96.0.10'), 'dropped: an apply that creates the set again leaves it empty');
});

test('learning: a replace refused with its learned addresses goes through without them; their restore refused too, the next answers write again', async () => {
  let refuse = false;
  const backend = new ScriptedBackend((c, o) =>
    c.startsWith('list ') ? NO_TABLE : refuse && !o.dryRun && c.includes('198.18.5.1') ? { ok: false, output: '', error: 'Error: Could not process rule' } : OK,
  );
  const driver = driverOn(backend);
  await driver.apply(learnedSet);
  await driver.learn([el('198.18.5.1', 60)]);
  refuse = true;
  backend.calls.length = 0;
  const result = await driver.apply(learnedSet, { replace: true });
  assert.equal(result.mode, 'replace');
  const sent = backend.writes.filter((w) => !w.options.dryRun).map((w) => [w.commands.includes('"delete":{"table"'), w.commands.includes('198.18.5.1')]);
  assert.deepEqual(
    sent,
    [
      [true, true],
      [true, false],
      [false, true],
    ],
    'with them (refused), without them, then them alone (refused)',
  );
  refuse = false;
  backend.calls.length = 0;
  await driver.learn([el('198.18.5.1', 30)]);
  assert.equal(backend.writes.length, 1, 'not trusted as held');
});

/** What libnftables lists for the renewal probe's set after the probe's second add, by what the kernel did with it. */
function probeKernel(expires: number) {
  return (commands: string) => {
    if (!commands.startsWith('list set inet sluice renewal_probe')) return OK;
    return {
      ...OK,
      output: JSON.stringify({
        nftables: [
          {
            set: { family: 'inet', table: 'sluice', name: 'renewal_probe', type: 'ipv4_addr', flags: ['timeout'], elem: [{ elem: { val: '192.0.2.1', timeout: 3600, expires } }] },
          },
        ],
      }),
    };
  };
}

test('unlearning: an element already gone counts as taken out; one missing element does not keep the others in; other errors still throw', async () => {
  const gone = (c: string) => c.includes('198.18.5.9') || c.includes('"name":"gone"');
  const backend = new ScriptedBackend((c) => (gone(c) ? { ok: false, output: '', error: 'Error: Could not process rule: No such file or directory' } : OK));
  const driver = driverOn(backend);
  await driver.unlearn([{ set: 'gone', family: 4, address: '198.18.5.1' }]);
  await driver.unlearn([
    { set: 'steer4', family: 4, address: '198.18.5.9' },
    { set: 'steer4', family: 4, address: '198.18.5.2' },
  ]);
  assert.ok(
    backend.writes.some((w) => w.commands.includes('198.18.5.2') && !w.commands.includes('198.18.5.9')),
    'the element that was there is deleted on its own',
  );
  const refusing = driverOn(new ScriptedBackend(() => ({ ok: false, output: '', error: 'Error: Operation not permitted' })));
  await assert.rejects(refusing.unlearn([{ set: 'steer4', family: 4, address: '198.18.5.3' }]), (err: unknown) => err instanceof EgressError && err.code === 'EGW_ERR_NFT');
});

test('learning: the kernel is probed once for how an element is renewed, and the probe set is removed', async () => {
  for (const [expires, renewal] of [
    [59, 'expires'],
    [3599, 'readd'],
  ] as const) {
    const backend = new ScriptedBackend(probeKernel(expires));
    const driver = driverOn(backend, noNetlink, noNetlink, 'probe');
    await driver.learn([el('198.18.7.1', 60)]);
    await driver.learn([el('198.18.7.2', 60)]);
    const probes = backend.calls.filter((c) => c.commands.includes('renewal_probe'));
    assert.equal(probes.length, 4, 'set up, add again, list, remove: once');
    assert.match(probes.at(-1)!.commands, /"delete":\{"set":\{"family":"inet","table":"sluice","name":"renewal_probe"\}/);
    const learning = backend.writes.filter((w) => w.commands.includes('198.18.7.'));
    assert.equal(learning.length, 2);
    for (const w of learning) {
      const ops = (JSON.parse(w.commands) as { nftables: object[] }).nftables.map((c) => Object.keys(c)[0]);
      assert.deepEqual(ops, renewal === 'expires' ? ['add'] : ['add', 'delete', 'add'], `kernel listing expires ${expires}`);
    }
  }
});

test('learning: a probe nft refuses (no table yet) renews by add, delete, add and is tried again later', async () => {
  let table = false;
  const backend = new ScriptedBackend((c) =>
    table ? probeKernel(59)(c) : c.includes('renewal_probe') ? { ok: false, output: '', error: 'Error: No such file or directory' } : OK,
  );
  const driver = driverOn(backend, noNetlink, noNetlink, 'probe');
  await driver.learn([el('198.18.8.1', 60)]);
  assert.deepEqual(
    (JSON.parse(backend.writes.at(-1)!.commands) as { nftables: object[] }).nftables.map((c) => Object.keys(c)[0]),
    ['add', 'delete', 'add'],
  );
  table = true;
  await driver.learn([el('198.18.8.2', 60)]);
  assert.deepEqual(
    (JSON.parse(backend.writes.at(-1)!.commands) as { nftables: object[] }).nftables.map((c) => Object.keys(c)[0]),
    ['add'],
  );
});

test("learning: after a restart the kernel's learned addresses are remembered: a shorter answer writes nothing, a replace carries them", async () => {
  const holding = kernelHolding(learnedSet);
  const backend = new ScriptedBackend((c, o) => {
    const r = holding(c, o);
    if (!c.startsWith('list ') || !o.json) return r;
    const doc = JSON.parse(r.output) as { nftables: { set?: { name: string; elem: unknown[]; flags?: string[] } }[] };
    const set = doc.nftables.find((x) => x.set?.name === 'f_a_n0_4')!.set!;
    set.flags = ['timeout'];
    set.elem = [{ elem: { val: '198.18.9.1', timeout: 300, expires: 250, comment: 'dns a.test A 198.18.9.1 ttl 295 to 10.244.1.5' } }];
    return { ...OK, output: JSON.stringify(doc) };
  });
  const driver = driverOn(backend);
  assert.equal((await driver.apply(learnedSet)).mode, 'none', 'adopted');
  backend.calls.length = 0;
  await driver.learn([el('198.18.9.1', 100)]);
  assert.equal(backend.writes.length, 0, 'held 250 s more: a 100 s answer is not written');
  await driver.learn([el('198.18.9.1', 400)]);
  assert.equal(backend.writes.length, 1, 'a longer one is');
  backend.calls.length = 0;
  await driver.apply(learnedSet, { replace: true });
  assert.match(backend.writes[0]!.commands, /"val":"198\.18\.9\.1","timeout":(399|400)/);
});

test('learning: renewed in place, learned elements go over netlink directly; a direct write that fails where libnftables does not is given up', async () => {
  const backend = new ScriptedBackend(() => OK);
  const direct: string[] = [];
  let broken = false;
  const kernelWrites = {
    learned: (_table: string, elements: readonly { address: string }[]) => {
      if (broken) throw new Error('EPERM');
      direct.push(...elements.map((e) => e.address));
    },
  };
  for (const learnedRenewal of ['expires', 'readd'] as const) {
    direct.length = 0;
    backend.calls.length = 0;
    const driver = new NftDriver({
      backend,
      table: 'sluice',
      log: quietLog,
      kernelReads: { rules: noNetlink, structureComment: noNetlink, table: noNetlink },
      kernelWrites,
      learnedRenewal,
    });
    await driver.learn([el('198.18.10.1', 60)]);
    assert.deepEqual([direct, backend.writes.length], learnedRenewal === 'expires' ? [['198.18.10.1'], 0] : [[], 1], learnedRenewal);
  }
  const driver = new NftDriver({
    backend,
    table: 'sluice',
    log: quietLog,
    kernelReads: { rules: noNetlink, structureComment: noNetlink, table: noNetlink },
    kernelWrites,
    learnedRenewal: 'expires',
  });
  broken = true;
  backend.calls.length = 0;
  await driver.learn([el('198.18.10.2', 60)]);
  assert.equal(backend.writes.length, 1, 'written by libnftables instead');
  broken = false;
  direct.length = 0;
  await driver.learn([el('198.18.10.3', 60)]);
  assert.deepEqual(direct, [], 'the direct write is not tried again');
  assert.equal(backend.writes.length, 2);
});

test('learning: written directly, an answer does not wait behind an apply in the queue, but does behind a replace in flight', async () => {
  const order: string[] = [];
  const backend = new ScriptedBackend((c) => {
    if (c.startsWith('list ')) return NO_TABLE;
    order.push(c.includes('"delete":{"table"') ? 'replace' : 'elements');
    return OK;
  });
  const kernelWrites = { learned: (_table: string, elements: readonly { address: string }[]) => void order.push(...elements.map((e) => `direct ${e.address}`)) };
  const driver = new NftDriver({
    backend,
    table: 'sluice',
    log: quietLog,
    kernelReads: { rules: noNetlink, structureComment: noNetlink, table: noNetlink },
    kernelWrites,
    learnedRenewal: 'expires',
  });
  await driver.apply(learnedSet);
  // An element change of the plan is running: the answer is learned meanwhile.
  let gate = gated(backend);
  const churn = driver.apply({ ...learnedSet, sets: [{ ...learnedSet.sets[0]!, elements: ['10.244.1.5'] }, learnedSet.sets[1]!] });
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.held(), 1, 'the apply is running');
  assert.equal(await settledWithin(driver.learn([el('198.18.11.1', 60)]), 200), true, 'not held up by the apply');
  gate.release();
  await churn;
  // A replace is in flight: an answer written now could miss the new table, so it waits for it.
  order.length = 0;
  gate = gated(backend);
  const replaced = driver.apply(learnedSet, { replace: true });
  await new Promise((r) => setImmediate(r));
  assert.equal(gate.held(), 1, 'the replace is running');
  const during = driver.learn([el('198.18.11.2', 60)]);
  assert.equal(await settledWithin(during, 50), false, 'waits for the replace');
  gate.release();
  await Promise.all([replaced, during]);
  assert.deepEqual(order, ['replace', 'direct 198.18.11.2']);
});

test('learning: a direct write the kernel refused (a set a replace then made) falls back once and keeps the direct path', async () => {
  const backend = new ScriptedBackend(() => OK);
  let refuse = true;
  const direct: string[] = [];
  const kernelWrites = {
    learned: (_table: string, elements: readonly { address: string }[]) => {
      if (refuse) throw new ElementsRefused(2);
      direct.push(...elements.map((e) => e.address));
    },
  };
  const driver = new NftDriver({
    backend,
    table: 'sluice',
    log: quietLog,
    kernelReads: { rules: noNetlink, structureComment: noNetlink, table: noNetlink },
    kernelWrites,
    learnedRenewal: 'expires',
  });
  await driver.learn([el('198.18.12.1', 60)]);
  assert.equal(backend.writes.length, 1, 'through libnftables this time');
  refuse = false;
  await driver.learn([el('198.18.12.2', 60)]);
  assert.deepEqual(direct, ['198.18.12.2'], 'directly again');
});

test('learning: the first apply with learned sets probes the renewal, so the first answers do not wait for it', async () => {
  const backend = new ScriptedBackend((c) => (c.startsWith('list table') ? NO_TABLE : probeKernel(59)(c)));
  const driver = driverOn(backend, noNetlink, noNetlink, 'probe');
  await driver.apply(table);
  assert.equal(backend.calls.filter((c) => c.commands.includes('renewal_probe')).length, 0, 'no learned sets, no probe');
  await driver.apply(learnedSet);
  assert.equal(backend.calls.filter((c) => c.commands.includes('renewal_probe')).length, 4, 'probed with the table that has them');
  backend.calls.length = 0;
  await driver.learn([el('198.18.13.1', 60)]);
  assert.equal(backend.calls.filter((c) => c.commands.includes('renewal_probe')).length, 0, 'the answer did not wait for a probe');
  assert.deepEqual(
    (JSON.parse(backend.writes.at(-1)!.commands) as { nftables: object[] }).nftables.map((c) => Object.keys(c)[0]),
    ['add'],
    'renewed in place (the direct write is off in this test)',
  );
});

test('a rule change over a big set rewrites the chains in one transaction and sends none of the set; a refused one falls back to a replace', async () => {
  const pods = Array.from({ length: 5000 }, (_, i) => `10.244.${Math.floor(i / 250)}.${(i % 250) + 1}`);
  const big: NftTablePlan = { ...table, sets: [{ ...table.sets[0]!, elements: pods }] };
  const changed: NftTablePlan = { ...big, chains: [{ ...big.chains[0]!, rules: [...big.chains[0]!.rules, rule([counter], 'more')] }] };
  let refuse = false;
  const backend = new ScriptedBackend((c, o) =>
    c.startsWith('list ') ? NO_TABLE : refuse && !o.dryRun && c.includes('"flush"') ? { ok: false, output: '', error: 'Error: No such file or directory' } : OK,
  );
  const driver = driverOn(backend);
  await driver.apply(big);
  backend.calls.length = 0;
  const r = await driver.apply(changed);
  assert.deepEqual([r.mode, r.reason, r.basis, r.elementsAdded, r.elementsRemoved], ['restructure', 'structure-changed', 'memory', 0, 0]);
  assert.equal(backend.writes.length, 1);
  const sent = backend.writes[0]!.commands;
  assert.ok(!sent.includes('10.244.1.1"') && !sent.includes('"delete":{"table"'), 'neither the set nor the table is loaded again');
  assert.match(sent, /"flush":\{"chain":\{"family":"inet","table":"sluice","name":"egress_input"\}\}/);
  refuse = true;
  backend.calls.length = 0;
  const back = await driver.apply(big);
  assert.deepEqual([back.mode, back.reason], ['replace', 'structure-changed']);
  assert.ok(backend.writes.at(-1)!.commands.includes('"delete":{"table"'));
});
