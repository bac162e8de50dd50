/**
 * Scenarios for the nftables driver against a real kernel. Each runs in a fresh network
 * namespace of its own (see run-case.ts), so it may create and delete tables freely.
 */
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EgressError, type ErrorCode } from '../../../errors.js';
import type { NftTablePlan } from '../../../planner/node-plan.js';
import type { NftRule } from '../../../planner/nft/vocabulary.js';
import type { LearnedRenewal } from '../../../planner/nft/render.js';
import { addressInSet, counter, drop, portIs, rule } from '../../../planner/nft/statements.js';
import { CATALOGUE_TABLE } from '../../../planner/nft/testing/catalogue.js';
import { canonicalElement } from '../element-diff.js';
import { STRUCTURE_CHAIN, structureFingerprint } from '../fingerprint.js';
import { replaceBatch, restructureBatch } from '../nft-commands.js';
import { restructure } from '../restructure.js';
import { LibnftablesBackend } from '../libnftables.js';
import { NftDriver } from '../nft-driver.js';
import { PROBE_SET, probeRenewal } from '../renewal-probe.js';
import { writeLearnedElements } from '../nfnetlink-elements.js';
import { dumpInetRules, readInetStructureComment, readInetTable } from '../netlink-reads.js';
import { probeNftStructure } from '../../nft-structure-probe.js';
import { parseTableJson } from '../parse-observed.js';
import { tableCapacities } from '../set-capacity.js';
import type { ObservedNft, ObservedSet } from '../nft-types.js';
import { allSetName, everyRuleTables, podAddresses, quietLog, SEED_NODES, seedTable, withElements } from './lab-fixtures.js';
import { API_VERSION } from '../../../api/group.js';
import { plan } from '../../../planner/plan.js';
import { everyRuleCluster, snapshotOf } from '../../../planner/testing/cluster.js';

export interface CaseContext {
  readonly backend: 'libnftables' | 'cli';
  /** A new driver instance (new backend, empty memory) for table `sluice`; renewal probed unless given. */
  openDriver(options?: { learnedRenewal?: LearnedRenewal }): NftDriver;
}

export type NftCase = (ctx: CaseContext) => Promise<void>;

async function nft(...args: string[]): Promise<string> {
  return (await execa('nft', args)).stdout;
}

/** Runs `nft [-j] [-c] -f FILE` on a batch; `-c`: parsed, evaluated and checked by the kernel, never committed. */
async function nftFile(text: string, flags: { json?: boolean; check?: boolean } = {}): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'sl-nft-file-'));
  try {
    const file = join(dir, 'batch');
    await writeFile(file, text);
    const args = [...(flags.json ? ['-j'] : []), ...(flags.check ? ['-c'] : []), '-f', file];
    const r = await execa('nft', args, { reject: false });
    assert.equal(r.exitCode, 0, `nft ${args.join(' ')} rejected the batch:\n${r.stderr}\n--- batch ---\n${text}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Our table as the kernel holds it, down to the bytecode of every rule (`--debug=netlink`).
 * Hash sets dump their elements in hash order, which differs per set instance: those lines are
 * sorted within their block.
 */
async function kernelDump(): Promise<string> {
  const blocks: string[][] = [];
  for (const line of (await nft('--debug=netlink', 'list', 'table', 'inet', 'sluice')).split('\n')) {
    if (!line.startsWith('\t') || blocks.length === 0) blocks.push([line]);
    else blocks.at(-1)!.push(line);
  }
  return blocks.map(([head, ...rest]) => [head, ...(rest.every((l) => l.startsWith('\telement ')) ? rest.sort() : rest)].join('\n')).join('\n');
}

const replaceFor = (table: NftTablePlan) => replaceBatch(table, structureFingerprint(table), tableCapacities(table));

/** Everything but elements, with handles: equal before and after means nothing was reloaded. */
const structureText = (family = 'inet', name = 'sluice') => nft('-a', '-t', 'list', 'table', family, name);

/** A read without the compact keys only a netlink read carries, to compare it with a listing. */
const withoutKeys = <T extends { sets: readonly ObservedSet[] }>(read: T): T => ({ ...read, sets: read.sets.map(({ keys: _, ...s }) => s) });

const canonicalSets = (sets: readonly { name: string; elements: readonly string[] }[]) => Object.fromEntries(sets.map((s) => [s.name, s.elements.map(canonicalElement).sort()]));

function assertHolds(observed: ObservedNft, table: NftTablePlan): void {
  assert.equal(observed.present, true);
  assert.equal(observed.fingerprint, structureFingerprint(table));
  assert.deepEqual(canonicalSets(observed.sets), canonicalSets(table.sets));
  // In the kernel's order, which is the order they were made in: a restructure adds chains after the others.
  const byName = (chains: readonly { name: string; rules: readonly unknown[] }[]) =>
    chains.map((c) => [c.name, c.rules.length]).sort(([a], [b]) => String(a).localeCompare(String(b)));
  assert.deepEqual(byName(observed.chains), byName(table.chains));
}

/**
 * `nft -j list table` of our table as a value that equal tables share whatever their history:
 * no handles, hash set elements sorted, objects in name order (rules keep their order).
 */
async function comparableTable(): Promise<unknown[]> {
  const items = (JSON.parse(await nft('-j', 'list', 'table', 'inet', 'sluice')) as { nftables: Record<string, Record<string, unknown>>[] }).nftables;
  const key = (item: Record<string, Record<string, unknown>>) => {
    const [kind, body] = Object.entries(item)[0]!;
    return `${kind} ${String(body.chain ?? body.name)}`;
  };
  return items
    .filter((item) => !('metainfo' in item))
    .map((item) => {
      const [kind, body] = Object.entries(item)[0]!;
      const { handle: _, ...rest } = body;
      if (Array.isArray(rest.elem)) rest.elem = rest.elem.map((e) => JSON.stringify(e)).sort();
      return { [kind]: rest };
    })
    .sort((a, b) => key(a).localeCompare(key(b)));
}

/** `table` with `extra` appended to the rules of `chain`. */
function withRule(table: NftTablePlan, chain: string, extra: NftRule): NftTablePlan {
  return { ...table, chains: table.chains.map((c) => (c.name === chain ? { ...c, rules: [...c.rules, extra] } : c)) };
}

/** The seed's gateway table with one pod added to the policy's _all4 set and one node dropped. */
function churned(table: NftTablePlan): NftTablePlan {
  const all = allSetName(table);
  return withElements(table, (s) => {
    if (s.name === all) return [...s.elements, '10.244.2.77'].sort();
    if (s.name === 'nodes4') return s.elements.slice(1);
    return undefined;
  });
}

async function rejects(promise: Promise<unknown>, pattern: RegExp, code: ErrorCode = 'EGW_ERR_NFT'): Promise<EgressError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof EgressError, `expected EgressError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return err;
  }
  assert.fail('expected the apply to be rejected');
}

export const NFT_CASES: Readonly<Record<string, NftCase>> = {
  async 'every rendered table passes nft -c and a full apply loads the planner table'(ctx) {
    for (const node of SEED_NODES) {
      const batch = replaceFor(await seedTable(node));
      await nftFile(batch.text(), { check: true });
      await nftFile(batch.json, { json: true, check: true });
    }
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    const r = await driver.apply(table);
    assert.deepEqual([r.mode, r.writes, r.basis, r.reason], ['replace', 3, 'kernel', 'absent']);
    assertHolds(await driver.observe(), table);
    // Another node's plan has another structure: the whole table is swapped in one go.
    const worker = await seedTable('worker-1');
    const w = await driver.apply(worker);
    assert.deepEqual([w.mode, w.reason], ['restructure', 'structure-changed']);
    assertHolds(await driver.observe(), worker);
  },

  async 'a new structure is written in place: the sets that stay keep their elements, and the kernel holds what a replace would load'(ctx) {
    const gateway = await seedTable('gateway-1');
    const all = allSetName(gateway);
    const big = withElements(gateway, (s) => (s.name === all ? podAddresses(3000) : undefined));
    const driver = ctx.openDriver();
    await driver.apply(big);
    const sizeBefore = /size (\d+)/.exec(await nft('-t', 'list', 'set', 'inet', 'sluice', all))?.[1];
    // A rule more, a set and a rule looking it up added, a base chain moved, another one gone.
    const [first, second, ...rest] = big.chains;
    const next: NftTablePlan = {
      ...big,
      sets: [...big.sets, { name: 'extra4', type: 'ipv4_addr', interval: false, elements: ['198.18.9.9'] }],
      chains: [
        { ...first!, rules: [...first!.rules, rule([counter, addressInSet(4, 'daddr', '==', 'extra4'), drop], 'extra')] },
        ...rest,
        { ...second!, priority: { ...second!.priority, offset: second!.priority.offset + 1 } },
      ].filter((c) => c.hook !== 'postrouting' || c.type !== 'filter'),
    };
    assert.equal(next.chains.length, big.chains.length - 1, 'a chain is left out');
    // Both forms pass the kernel's check against the live table (the text is what errors quote).
    const batch = restructureBatch(restructure(big, next)!, structureFingerprint(next), tableCapacities(next));
    await nftFile(batch.text(), { check: true });
    await nftFile(batch.json, { json: true, check: true });
    const r = await driver.apply(next);
    assert.deepEqual([r.mode, r.reason, r.basis, r.elementsAdded, r.elementsRemoved], ['restructure', 'structure-changed', 'memory', 1, 0]);
    assertHolds(await driver.observe(), next);
    assert.equal(/size (\d+)/.exec(await nft('-t', 'list', 'set', 'inet', 'sluice', all))?.[1], sizeBefore, 'the big set was not made again');
    const inPlace = await comparableTable();
    await driver.apply(next, { replace: true });
    assert.deepEqual(inPlace, await comparableTable(), 'a replace loads the same table');
    // Element churn afterwards is element commands again; and back to a table with other sets.
    assert.equal((await driver.apply(churned(next))).mode, 'elements');
    const worker = withElements(await seedTable('worker-1'), (s) => (s.name === 'nodes4' ? ['198.18.0.11', '198.18.0.12'] : undefined));
    const w = await driver.apply(worker);
    assert.deepEqual([w.mode, w.elementsRemoved], ['restructure', 1]);
    assertHolds(await driver.observe(), worker);
    const workerInPlace = await comparableTable();
    await driver.apply(worker, { replace: true });
    assert.deepEqual(workerInPlace, await comparableTable());
  },

  async 'a restructure the kernel refuses falls back to a replace'(ctx) {
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    await driver.apply(table);
    // Behind the driver's back: a chain it would flush is gone.
    await nft('delete', 'chain', 'inet', 'sluice', table.chains.at(-1)!.name);
    const next = withRule(table, table.chains[0]!.name, rule([counter], 'more'));
    const r = await driver.apply(next);
    assert.deepEqual([r.mode, r.reason], ['replace', 'structure-changed']);
    assertHolds(await driver.observe(), next);
  },

  async 'the JSON and the text form of a replace give the kernel the same table, bytecode and all'() {
    const big = withElements(await seedTable('gateway-1'), (s) => (s.name.endsWith('_all4') ? podAddresses(3000) : undefined));
    // Every rule shape the planner emits, and every statement, field and value of the vocabulary.
    for (const table of [...everyRuleTables(), big, CATALOGUE_TABLE]) {
      const batch = replaceFor(table);
      await nftFile(batch.text());
      const fromText = await kernelDump();
      await nft('delete', 'table', 'inet', 'sluice');
      await nftFile(batch.json, { json: true });
      assert.equal(await kernelDump(), fromText);
      await nft('delete', 'table', 'inet', 'sluice');
    }
    await nftFile(replaceFor(big).json, { json: true });
    assert.match(await nft('-t', 'list', 'set', 'inet', 'sluice', allSetName(big)), /size 8192/, '3000 elements with half again as much room');
  },

  async 'a set that churn would take past its size is reloaded with more room'(ctx) {
    const base = await seedTable('gateway-1');
    const all = allSetName(base);
    const sized = (n: number) => withElements(base, (s) => (s.name === all ? podAddresses(n) : undefined));
    const driver = ctx.openDriver();
    await driver.apply(sized(1100));
    const sizeOf = async () => /size (\d+)/.exec(await nft('-t', 'list', 'set', 'inet', 'sluice', all))?.[1];
    assert.equal(await sizeOf(), '2048');
    // The kernel enforces the size: one element past it is refused outright.
    assert.equal((await driver.apply(sized(2048))).mode, 'elements');
    const refused = await execa('nft', ['add', 'element', 'inet', 'sluice', all, '{ 10.250.0.1 }'], { reject: false });
    assert.notEqual(refused.exitCode, 0, 'a full set takes no more elements');
    const grown = await driver.apply(sized(2049));
    assert.deepEqual([grown.mode, grown.reason], ['replace', 'set-full']);
    assert.equal(await sizeOf(), '4096');
    assertHolds(await driver.observe(), sized(2049));
    // A restarted agent learns the size from the kernel.
    const fresh = ctx.openDriver();
    assert.equal((await fresh.apply(sized(4096))).mode, 'elements');
    assert.deepEqual((await fresh.apply(sized(4097))).reason, 'set-full');
  },

  async 're-applying an equal plan writes nothing'(ctx) {
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    await driver.apply(table);
    const before = await structureText();
    const again = await driver.apply(table);
    assert.deepEqual([again.mode, again.writes, again.basis], ['none', 0, 'memory']);
    const copy = JSON.parse(JSON.stringify(table)) as NftTablePlan;
    const fromCopy = await driver.apply(copy);
    assert.deepEqual([fromCopy.mode, fromCopy.writes], ['none', 0]);
    assert.equal(await structureText(), before);
  },

  async 'element changes are sent as element commands and leave rules and sets in place'(ctx) {
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    await driver.apply(table);
    const before = await structureText();
    const next = churned(table);
    const r = await driver.apply(next);
    assert.deepEqual([r.mode, r.basis, r.elementsAdded, r.elementsRemoved], ['elements', 'memory', 1, 1]);
    assert.equal(r.writes, 2); // add to _all4, delete from nodes4
    assert.equal(await structureText(), before, 'rules, sets and handles must be untouched');
    assertHolds(await driver.observe(), next);
    // An interval swapped for an overlapping one in the same transaction.
    const widened = withElements(next, (s) => (s.name === 'cluster4' ? ['10.96.0.0/11', '10.244.0.0/16', '198.18.0.11-198.18.0.13'] : undefined));
    const w = await driver.apply(widened);
    assert.equal(w.mode, 'elements');
    assert.equal(await structureText(), before);
    assertHolds(await driver.observe(), widened);
    const back = await driver.apply(table);
    assert.deepEqual([back.mode, back.elementsAdded, back.elementsRemoved], ['elements', 3, 3]);
    assertHolds(await driver.observe(), table);
  },

  async 'a rejected batch throws EGW_ERR_NFT and leaves the previous table live'(ctx) {
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    await driver.apply(table);
    const before = await structureText();
    const badRule = withRule(table, 'egress_input', rule([addressInSet(4, 'saddr', '==', 'no_such_set'), counter, drop]));
    // The kernel refuses the JSON; the message quotes the offending rule as text, with its line in the batch.
    await rejects(driver.apply(badRule), /replacing table inet sluice: batch:\d+:\d+-\d+: Error: .*No such file or directory.*\n.*ip saddr @no_such_set counter drop\n/);
    // A plan edited by hand (read from a file, past the constructors) cannot splice text into the batch.
    const spliced = JSON.parse(JSON.stringify(withRule(table, 'egress_input', rule([counter], 'x')))) as NftTablePlan;
    (spliced.chains.find((c) => c.name === 'egress_input')!.rules.at(-1) as { comment: string }).comment = 'x" ; add table ip evil { }';
    await rejects(driver.apply(spliced), /comment "x\\" ; add table ip evil/, 'EGW_ERR_NFT_VALUE');
    const badElement = withElements(table, (s) => (s.name === allSetName(table) ? [...s.elements, '10.244.2.300'] : undefined));
    await rejects(driver.apply(badElement), /10\.244\.2\.300/, 'EGW_ERR_NFT_VALUE');
    assert.doesNotMatch(await nft('list', 'ruleset'), /evil/);
    assert.equal(await structureText(), before);
    assertHolds(await driver.observe(), table);
    // After an error the driver trusts nothing it remembers and diffs against the kernel.
    const r = await driver.apply(table);
    assert.deepEqual([r.mode, r.writes, r.basis], ['none', 0, 'kernel']);
  },

  async 'a fresh driver adopts a matching table without reloading it'(ctx) {
    const table = await seedTable('gateway-1');
    await ctx.openDriver().apply(table);
    const before = await structureText();
    const adopted = await ctx.openDriver().apply(table);
    assert.deepEqual([adopted.mode, adopted.writes, adopted.basis], ['none', 0, 'kernel']);
    const next = churned(table);
    const fresh = ctx.openDriver();
    const r = await fresh.apply(next);
    assert.deepEqual([r.mode, r.basis, r.elementsAdded, r.elementsRemoved], ['elements', 'kernel', 1, 1]);
    assert.equal(await structureText(), before);
    assert.equal((await fresh.apply(next)).basis, 'memory');
    // A rule deleted by hand under our comment is drift: replaced, not patched.
    const handle = /ip daddr @eips4 .* # handle (\d+)/.exec(before)?.[1];
    assert.ok(handle, before);
    await nft('delete', 'rule', 'inet', 'sluice', 'egress_input', 'handle', handle);
    const drifted = await ctx.openDriver().apply(next);
    assert.deepEqual([drifted.mode, drifted.reason], ['replace', 'drifted']);
    assertHolds(await fresh.observe(), next);
    // A table of our name without our fingerprint (older agent, hand-made) is replaced.
    await nft('delete', 'table', 'inet', 'sluice');
    await nft('add', 'table', 'inet', 'sluice', '{ comment "hand made" ; }');
    const foreign = await ctx.openDriver().apply(next);
    assert.deepEqual([foreign.mode, foreign.reason], ['replace', 'foreign-or-old']);
  },

  async 'a restarted agent adopts a dual-stack table and sends only what changed while it was away'(ctx) {
    // Sets large enough to span many dump datagrams; addresses changed by hand stand for pods that came and went.
    const v6Pods = Array.from({ length: 3000 }, (_, i) => `fd00:10:244:${(i >> 8).toString(16)}::${(i & 255).toString(16)}`);
    const base = everyRuleTables()[0]!;
    const table = withElements(base, (s) => (s.name.endsWith('_all4') ? podAddresses(5000) : s.name.endsWith('_all6') ? v6Pods : undefined));
    const all4 = table.sets.find((s) => s.name.endsWith('_all4'))!.name;
    const all6 = table.sets.find((s) => s.name.endsWith('_all6'))!.name;
    const dst4 = table.sets.find((s) => s.name.endsWith('_dst4'))!.name;
    await ctx.openDriver().apply(table);
    await nft('add', 'element', 'inet', 'sluice', all4, '{ 10.250.0.1 }');
    await nft('add', 'element', 'inet', 'sluice', all6, '{ fd00:10:244:ff::1 }');
    await nft('delete', 'element', 'inet', 'sluice', all4, `{ ${podAddresses(5000)[1234]} }`);
    await nft('delete', 'element', 'inet', 'sluice', all6, `{ ${v6Pods[2345]} }`);
    await nft('delete', 'element', 'inet', 'sluice', dst4, '{ 198.18.1.0/24 }');
    const r = await ctx.openDriver().apply(table);
    assert.deepEqual([r.mode, r.basis, r.elementsAdded, r.elementsRemoved], ['elements', 'kernel', 3, 2]);
    assertHolds(await ctx.openDriver().observe(), table);
    assert.equal((await ctx.openDriver().apply(table)).mode, 'none');
  },

  async 'other tables in the namespace are never touched'(ctx) {
    const foreignBatch = [
      'table inet foreign {',
      '\tset keep { type ipv4_addr; elements = { 192.0.2.1, 192.0.2.2 } ; }',
      '\tchain input { type filter hook input priority 10; policy accept; ip saddr @keep counter accept comment "foreign rule" ; }',
      '}',
      // A one-line block needs `;` before each closing brace in nft 1.0.6.
      'table ip sluice { chain c { type filter hook input priority 0; policy accept; counter ; } ; }',
    ].join('\n');
    const dir = await mkdtemp(join(tmpdir(), 'sl-nft-foreign-'));
    try {
      await writeFile(join(dir, 'foreign.nft'), `${foreignBatch}\n`);
      await nft('-f', join(dir, 'foreign.nft'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const snapshot = async () => `${await nft('-a', 'list', 'table', 'inet', 'foreign')}\n${await nft('-a', 'list', 'table', 'ip', 'sluice')}`;
    const before = await snapshot();
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    const steps: [string, () => Promise<unknown>][] = [
      ['full apply', () => driver.apply(table)],
      ['element update', () => driver.apply(churned(table))],
      ['structure change', () => driver.apply({ ...table, chains: table.chains.slice(1) })],
      ['rejected batch', () => driver.apply(withRule(table, 'egress_input', rule([addressInSet(4, 'saddr', '==', 'no_such_set'), drop]))).catch(() => undefined)],
      ['observe and counters', async () => [await driver.observe(), await driver.counters()]],
      ['remove', () => driver.remove()],
    ];
    for (const [what, step] of steps) {
      await step();
      assert.equal(await snapshot(), before, `after ${what}`);
    }
    assert.doesNotMatch(await nft('list', 'tables'), /table inet sluice/);
  },

  async 'observe returns sets with elements and chains with rules; counters count per comment'(ctx) {
    const driver = ctx.openDriver();
    assert.deepEqual(await driver.observe(), { family: 'inet', name: 'sluice', present: false, sets: [], chains: [] });
    assert.equal((await driver.counters()).size, 0);
    const table = await seedTable('gateway-1');
    await driver.apply(table);
    const observed = await driver.observe();
    assertHolds(observed, table);
    const cluster = observed.sets.find((s) => s.name === 'cluster4');
    assert.deepEqual(cluster?.elements, ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.11-198.18.0.13']);
    assert.equal(cluster?.interval, true);
    const snat = observed.chains.find((c) => c.name === 'egress_snat');
    assert.deepEqual([snat?.type, snat?.hook, snat?.rules[0]?.comment], ['nat', 'postrouting', 'snat default/test']);
    assert.equal(typeof snat?.priority, 'number');

    // Real packets through a rule with a counter: UDP to 127.0.0.1 passes the input hook.
    await execa('ip', ['link', 'set', 'lo', 'up']);
    const probe = withRule(table, 'egress_input', rule([portIs('udp', 'dport', 9), counter], 'probe'));
    await driver.apply(probe);
    const socket = createSocket('udp4');
    try {
      for (let i = 0; i < 3; i++) await new Promise<void>((resolve, reject) => socket.send(Buffer.from('x'), 9, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
    } finally {
      socket.close();
    }
    const counters = await driver.counters();
    assert.equal(counters.get('probe')?.packets, 3);
    assert.equal(counters.get('probe')?.bytes, 3 * 29); // 20 IP + 8 UDP + 1 payload
    assert.deepEqual(counters.get('snat default/test'), { packets: 0, bytes: 0 });
    assert.ok(counters.has('vxlan from unknown host'));
    // The netlink dump and a libnftables listing agree, rule by rule.
    const dumped = dumpInetRules('sluice').filter((r) => r.chain !== STRUCTURE_CHAIN); // observe() leaves it out
    const listed = (await driver.observe()).chains.flatMap((c) => c.rules.map((r) => ({ chain: c.name, ...r })));
    assert.deepEqual(
      dumped.map((r) => ({ chain: r.chain, handle: r.handle, comment: r.comment, counter: r.counter })),
      listed.map((r) => ({ chain: r.chain, handle: r.handle, comment: r.comment, counter: r.counter })),
    );
    const noNetlink = { rules: () => assert.fail('forced fallback'), structureComment: () => assert.fail('forced fallback'), table: () => assert.fail('forced fallback') };
    const viaListing = new NftDriver({ table: 'sluice', log: quietLog, backend: new LibnftablesBackend(), kernelReads: noNetlink });
    assert.deepEqual(await viaListing.counters(), counters);
    assert.deepEqual(dumpInetRules('no_such_table'), []);
    // Same for the fingerprint (netlink) and observe() through listings only.
    assert.equal(readInetStructureComment('sluice'), `sluice-structure-v3 sha256:${structureFingerprint(probe)}`);
    assert.equal(readInetStructureComment('no_such_table'), null);
    assert.deepEqual(await viaListing.observe(), withoutKeys(await driver.observe()));
    const adopted = await viaListing.apply(probe);
    assert.deepEqual([adopted.mode, adopted.basis], ['none', 'kernel'], 'the fingerprint read from a text listing matches');
    viaListing.close();
    // The resync's structure probe reads the rules without their counters: intact, until a rule is deleted by hand.
    assert.deepEqual(
      dumpInetRules('sluice', { counters: false }),
      dumpInetRules('sluice').map(({ counter: _counter, ...r }) => r),
    );
    assert.deepEqual(probeNftStructure(probe), { intact: true });
    const planned = probe.chains.find((c) => c.name === 'egress_input')!.rules.length;
    await nft('delete', 'rule', 'inet', 'sluice', 'egress_input', 'handle', String(dumped.find((r) => r.comment === 'probe')!.handle));
    assert.deepEqual(probeNftStructure(probe), { intact: false, why: `chain egress_input has ${planned - 1} rules, the plan ${planned}` });
  },

  async 'a hostile parent interface name in EgressTunnel status never reaches the kernel, and the node keeps its policies'(ctx) {
    const injection = 'eth0" } accept; add table ip evil { chain c { type filter hook input priority 0; policy drop; } }; #';
    const tooLong = 'parent-is-16char';
    const clean = plan(snapshotOf(everyRuleCluster()), 'worker-1');
    const driver = ctx.openDriver();
    for (const hostile of [injection, tooLong]) {
      const status = { apiVersion: API_VERSION, kind: 'EgressTunnel', metadata: { name: 'worker-1' }, status: { tunnel: { parent: { name: hostile } } } };
      const p = plan(snapshotOf([...everyRuleCluster(), status]), 'worker-1');
      assert.equal(p.notices?.filter((n) => n.startsWith('EgressTunnel "worker-1": status.tunnel.parent.name') && n.includes('ignored')).length, 1);
      await driver.apply(p.nft);
      const ruleset = await nft('list', 'ruleset');
      assert.deepEqual(ruleset.match(/^table .*/gm), ['table inet sluice {']);
      assert.doesNotMatch(ruleset, /evil|policy drop|parent-is-16char/);
      // Every policy of the node is programmed, exactly as without the bad status.
      assertHolds(await driver.observe(), clean.nft);
      assert.match(
        ruleset,
        /iifname != \{ "eth0", "egress\.vxlan" \} ct direction original ip saddr @p_\w+_loc4 ip daddr @p_\w+_dst4 ip daddr != @p_\w+_exc4 fib saddr \. iif oif != 0 counter .* comment "worker default\/test"/,
      );
      assert.ok((await driver.counters()).has('worker default/test'));
      // The name put into a table by hand, past the planner: refused before anything is sent.
      const handMade = JSON.parse(JSON.stringify(p.nft).replaceAll('"name":"eth0"', `"name":${JSON.stringify(hostile)}`)) as NftTablePlan;
      assert.notDeepEqual(handMade, p.nft);
      await rejects(driver.apply(handMade), /interface name/, 'EGW_ERR_NFT_VALUE');
      assert.equal(await nft('list', 'ruleset'), ruleset);
    }
  },

  async 'a table fingerprinted by the previous format is replaced once, then adopted'(ctx) {
    const table = await seedTable('gateway-1');
    // What the previous agent left: the same table, its structure rule carrying a v2 fingerprint.
    const batch = replaceFor(table)
      .text()
      .replace(/sluice-structure-v3 sha256:[0-9a-f]{64}/, `sluice-structure-v2 sha256:${'0'.repeat(64)}`);
    await nftFile(batch);
    const first = await ctx.openDriver().apply(table);
    assert.deepEqual([first.mode, first.reason], ['replace', 'foreign-or-old']);
    const restarted = await ctx.openDriver().apply(table);
    assert.deepEqual([restarted.mode, restarted.writes, restarted.basis], ['none', 0, 'kernel']);
  },

  async 'remove deletes only our table and is idempotent'(ctx) {
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    await driver.apply(table);
    assert.equal((await driver.remove()).removed, true);
    assert.equal((await driver.observe()).present, false);
    assert.equal((await driver.remove()).removed, false);
    const r = await driver.apply(table);
    assert.deepEqual([r.mode, r.reason, r.basis], ['replace', 'absent', 'memory']);
  },

  async 'a table deleted behind the driver is rebuilt on the next change'(ctx) {
    const table = await seedTable('gateway-1');
    const driver = ctx.openDriver();
    await driver.apply(table);
    await nft('delete', 'table', 'inet', 'sluice');
    const r = await driver.apply(churned(table));
    assert.deepEqual([r.mode, r.reason, r.basis], ['replace', 'absent', 'kernel']);
    assertHolds(await driver.observe(), churned(table));
    // An unchanged plan is not checked against the kernel until forget() asks for it.
    await nft('delete', 'table', 'inet', 'sluice');
    assert.equal((await driver.apply(churned(table))).mode, 'none');
    driver.forget();
    assert.deepEqual((await driver.apply(churned(table))).mode, 'replace');
  },
  async 'learned addresses go into a timeout set with fresh timeouts, and applies leave them there'(ctx) {
    const learned = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const table: NftTablePlan = { family: 'inet', name: 'sluice', sets: [learned, { name: 'src4', type: 'ipv4_addr', interval: false, elements: ['10.244.1.5'] }], chains: [] };
    const driver = ctx.openDriver();
    await driver.apply(table);
    await driver.learn([{ set: learned.name, family: 4, address: '198.18.1.10', timeoutSeconds: 5 }]);
    await driver.learn([
      { set: learned.name, family: 4, address: '198.18.1.10', timeoutSeconds: 300 },
      { set: learned.name, family: 4, address: '198.18.1.11', timeoutSeconds: 300 },
    ]);
    const listing = await nft('list', 'set', 'inet', 'sluice', learned.name);
    assert.match(listing, /flags timeout/);
    assert.match(listing, /198\.18\.1\.10 timeout 5m/, "the later answer's timeout replaced the first");
    assert.match(listing, /198\.18\.1\.11 timeout 5m/);
    // A pod change is an element diff: the learned set is left alone, by memory and by the kernel.
    const next = { ...table, sets: [learned, { ...table.sets[1]!, elements: ['10.244.1.6'] }] };
    const r = await driver.apply(next);
    assert.equal(r.mode, 'elements');
    driver.forget();
    await driver.apply(next);
    assert.match(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.1\.11/);
    // A shorter TTL later does not cut the held timeout short.
    await driver.learn([{ set: learned.name, family: 4, address: '198.18.1.11', timeoutSeconds: 2 }]);
    assert.match(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.1\.11 timeout 5m/);
    // A structure change rewrites the chains in place: the learned set, kept, is not touched.
    const restructured = { ...next, sets: [...next.sets, { name: 'other4', type: 'ipv4_addr' as const, interval: false, elements: [] }] };
    assert.equal((await driver.apply(restructured)).mode, 'restructure');
    assert.match(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.1\.10 timeout 5m expires 4m5\ds/);
    // A replace puts the learned addresses back with what is left of their time.
    const replaced = await driver.apply(restructured, { replace: true });
    assert.equal(replaced.mode, 'replace');
    assert.match(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.1\.10 timeout (5m|4m5\ds) expires 4m5\ds/);
    await assert.rejects(driver.learn([{ set: 'no_such_set', family: 4, address: '198.18.1.12', timeoutSeconds: 5 }]), { code: 'EGW_ERR_NFT' });
  },

  async 'unlearning what is already gone (an expired address, a removed table) counts as done, and the rest is still taken out'(ctx) {
    const learned = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const table: NftTablePlan = { family: 'inet', name: 'sluice', sets: [learned], chains: [] };
    const driver = ctx.openDriver();
    await driver.apply(table);
    await driver.learn([{ set: learned.name, family: 4, address: '198.18.5.1', timeoutSeconds: 300 }]);
    await driver.unlearn([
      { set: learned.name, family: 4, address: '198.18.5.9' },
      { set: learned.name, family: 4, address: '198.18.5.1' },
    ]);
    assert.doesNotMatch(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.5\.1/, 'the address that was there is out');
    await nft('delete', 'table', 'inet', 'sluice');
    await driver.unlearn([{ set: learned.name, family: 4, address: '198.18.5.1' }]);
  },

  async 'a fresher answer renews a learned address, a shorter one never cuts it; each renewal this kernel supports, and the probe leaves nothing'(ctx) {
    const learned = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const table: NftTablePlan = { family: 'inet', name: 'sluice', sets: [learned], chains: [] };
    const probe = ctx.openDriver();
    await probe.apply(table);
    const backend = new LibnftablesBackend();
    const supported = await probeRenewal(backend, 'inet', 'sluice').finally(() => backend.close());
    const modes: (LearnedRenewal | undefined)[] = [undefined, 'readd', ...(supported === 'expires' ? ['expires' as const] : [])];
    const expires = async (address: string) => {
      const listed = JSON.parse(await nft('-j', 'list', 'set', 'inet', 'sluice', learned.name)) as {
        nftables: { set?: { elem?: { elem: { val: string; expires: number } }[] } }[];
      };
      const e = listed.nftables.flatMap((x) => x.set?.elem ?? []).find((x) => x.elem.val === address);
      assert.ok(e, `${address} is in the set`);
      return e.elem.expires;
    };
    for (const [i, mode] of modes.entries()) {
      const driver = ctx.openDriver(mode ? { learnedRenewal: mode } : {});
      await driver.apply(table);
      const address = `198.18.2.${i + 1}`;
      await driver.learn([{ set: learned.name, family: 4, address, timeoutSeconds: 30 }]);
      await new Promise((r) => setTimeout(r, 2500));
      assert.ok((await expires(address)) <= 28, 'time passes');
      await driver.learn([{ set: learned.name, family: 4, address, timeoutSeconds: 30 }]);
      assert.ok((await expires(address)) >= 29, `renewed (${mode ?? `probed: ${supported}`})`);
      await driver.learn([{ set: learned.name, family: 4, address, timeoutSeconds: 5 }]);
      assert.ok((await expires(address)) >= 28, `not cut short (${mode ?? `probed: ${supported}`})`);
    }
    assert.doesNotMatch(await nft('list', 'table', 'inet', 'sluice'), new RegExp(PROBE_SET), 'the probe set is gone');
  },

  async 'learned elements written over netlink directly: both families, their timeouts and comments; a missing set is refused and nothing commits'(ctx) {
    const v4 = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const v6 = { name: 'f_test_n0_6', type: 'ipv6_addr' as const, interval: false, elements: [], learned: true };
    await ctx.openDriver().apply({ family: 'inet', name: 'sluice', sets: [v4, v6], chains: [] });
    writeLearnedElements('sluice', [
      { set: v4.name, family: 4, address: '198.18.5.1', timeoutSeconds: 30, comment: 'dns a.test A 198.18.5.1 ttl 25 to 10.244.1.5' },
      { set: v6.name, family: 6, address: '2001:db8::5', timeoutSeconds: 40 },
    ]);
    assert.match(await nft('list', 'set', 'inet', 'sluice', v4.name), /198\.18\.5\.1 timeout 30s expires 29s\d+ms comment "dns a\.test A 198\.18\.5\.1 ttl 25 to 10\.244\.1\.5"/);
    assert.match(await nft('list', 'set', 'inet', 'sluice', v6.name), /2001:db8::5 timeout 40s expires 39s\d+ms/);
    assert.throws(
      () =>
        writeLearnedElements('sluice', [
          { set: v4.name, family: 4, address: '198.18.5.2', timeoutSeconds: 30 },
          { set: 'no_such_set', family: 4, address: '198.18.5.3', timeoutSeconds: 30 },
        ]),
      { code: 'EGW_ERR_NFT', message: /ENOENT/ },
    );
    assert.doesNotMatch(await nft('list', 'set', 'inet', 'sluice', v4.name), /198\.18\.5\.2/, 'the batch is all or nothing');
    assert.throws(() => writeLearnedElements('sluice', [{ set: v4.name, family: 4, address: '198.18.5.4', timeoutSeconds: 30, comment: 'a" } ; flush ruleset' }]), {
      code: 'EGW_ERR_NFT_VALUE',
    });
  },

  async 'observe reads the same table over netlink as from a JSON listing: intervals, both families, timeouts and comments'(ctx) {
    const v4 = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const v6 = { name: 'f_test_n0_6', type: 'ipv6_addr' as const, interval: false, elements: [], learned: true };
    const edges: Record<string, readonly string[]> = {
      nets4: ['10.96.0.0/12', '10.244.1.0-10.244.3.255', '198.18.0.20', '0.0.0.0/8', '240.0.0.0/4', '100.64.0.1-100.64.0.2'],
      nets6: ['fd00:10:244::/56', 'fd00::1-fd00::9', '::/16', 'ff00::/8'],
    };
    const table: NftTablePlan = { ...withElements(CATALOGUE_TABLE, (s) => edges[s.name]), sets: [...withElements(CATALOGUE_TABLE, (s) => edges[s.name]).sets, v4, v6] };
    const driver = ctx.openDriver();
    await driver.apply(table);
    await driver.learn([
      { set: v4.name, family: 4, address: '198.18.5.1', timeoutSeconds: 600, comment: 'dns a.test A 198.18.5.1 ttl 25 to 10.244.1.5' },
      { set: v4.name, family: 4, address: '198.18.5.2', timeoutSeconds: 300 },
      { set: v6.name, family: 6, address: '2001:db8::5', timeoutSeconds: 400, comment: 'six' },
    ]);
    // Read directly, not through observe(): its fallback to the listing would hide a failing dump.
    const both = async () => ({ dumped: readInetTable('sluice'), listed: parseTableJson(await nft('-j', 'list', 'table', 'inet', 'sluice'), 'inet', 'sluice') });
    const { dumped, listed } = await both();
    assert.ok(dumped);
    // Seconds left tick between the two reads: equal within a second, then compared without them.
    type Read = { sets: readonly ObservedSet[] };
    const expires = (o: Read) => o.sets.flatMap((s) => (s.timed ?? []).map((e) => [s.name, e.element, e.expiresSeconds ?? -1] as const));
    const withoutExpiry = <T extends Read>(o: T) => ({ ...o, sets: o.sets.map((s) => (s.timed ? { ...s, timed: s.timed.map(({ expiresSeconds: _, ...e }) => e) } : s)) });
    assert.equal(expires(dumped).length, 3);
    const dumpedExpires = expires(dumped);
    for (const [i, [set, element, left]] of expires(listed).entries()) {
      const [dSet, dElement, dLeft] = dumpedExpires[i]!;
      assert.deepEqual([dSet, dElement], [set, element]);
      assert.ok(Math.abs(dLeft - left) <= 1 && left > 200, `${set} ${element}: ${dLeft}s over netlink, ${left}s listed`);
    }
    assert.deepEqual(withoutExpiry(withoutKeys(dumped)), withoutExpiry(listed));
    assert.equal((await ctx.openDriver().apply(table)).mode, 'none', 'a fresh driver adopts the table read over netlink');
    // Every rule kind, with its chain's hook, priority and policy, too.
    for (const rules of everyRuleTables()) {
      await ctx.openDriver().apply(rules);
      const again = await both();
      assert.ok(again.dumped);
      assert.deepEqual(withoutKeys(again.dumped), again.listed);
    }
    assert.equal(readInetTable('no_such_table'), null);
  },

  async 'a restarted agent does not cut short what the previous one learned'(ctx) {
    const learned = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const table: NftTablePlan = { family: 'inet', name: 'sluice', sets: [learned], chains: [] };
    const before = ctx.openDriver();
    await before.apply(table);
    await before.learn([{ set: learned.name, family: 4, address: '198.18.4.1', timeoutSeconds: 300 }]);
    const after = ctx.openDriver();
    assert.equal((await after.apply(table)).mode, 'none', 'adopted');
    await after.learn([{ set: learned.name, family: 4, address: '198.18.4.1', timeoutSeconds: 5 }]);
    assert.match(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.4\.1 timeout 5m expires 4m5\d/);
  },

  async 'a table replace carries the learned addresses: the kernel never commits the new table without them'(ctx) {
    const learned = { name: 'f_test_n0_4', type: 'ipv4_addr' as const, interval: false, elements: [], learned: true };
    const table: NftTablePlan = { family: 'inet', name: 'sluice', sets: [learned], chains: [] };
    const driver = ctx.openDriver();
    await driver.apply(table);
    await driver.learn([{ set: learned.name, family: 4, address: '198.18.3.1', timeoutSeconds: 300 }]);
    // Every committed change of the namespace, with the generation each commit made.
    const monitor = execa('nft', ['monitor'], { reject: false, buffer: true });
    let seen = '';
    monitor.stdout?.on('data', (d: Buffer) => (seen += d.toString()));
    const until = async (text: string) => {
      for (let i = 0; i < 100 && !seen.includes(text); i++) await new Promise((r) => setTimeout(r, 50));
      assert.ok(seen.includes(text), `nft monitor printed ${text}`);
    };
    try {
      // Listening once a table it saw come and go shows up.
      for (let i = 0; i < 50 && !seen.includes('table inet marker'); i++) {
        await nft('add', 'table', 'inet', 'marker');
        await nft('delete', 'table', 'inet', 'marker');
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = await driver.apply(table, { replace: true });
      assert.equal(r.mode, 'replace');
      await nft('add', 'table', 'inet', 'marker_after');
      await until('add table inet marker_after');
    } finally {
      monitor.kill();
      await monitor;
    }
    const generations = seen.split(/^# new generation .*$/m);
    const replace = generations.find((g) => g.includes('delete table inet sluice'));
    assert.ok(replace, `the replace was seen:\n${seen}`);
    assert.match(replace, /add element inet sluice f_test_n0_4 \{ 198\.18\.3\.1 /, `the learned address is in the replace's own generation:\n${seen}`);
    assert.match(await nft('list', 'set', 'inet', 'sluice', learned.name), /198\.18\.3\.1 timeout/);
  },
};
