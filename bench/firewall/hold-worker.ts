/**
 * The DNS hold measured where it happens: run inside a lab node's network namespace (never the
 * host's), it loads that node's real plan table (`--plan`, a NodePlan with a rule by name), starts
 * the DNS forwarder on loopback in front of a loopback upstream, and asks it names over UDP:
 *   - `learned`: a name of the firewall's rule, so every answer waits for its nft transaction;
 *   - `passed`: a name no rule names, the same forwarder and upstream without the set update.
 * Queries of the two kinds alternate, so both see the same machine. Prints one JSON line: the
 * forwarder's own hold times (server side, from its clock), the client's round trips for each
 * kind, and a paced run at `--rate` answers a second. Not a benchmark on its own (no `main`).
 *
 *   ip netns exec NODE node dist/bench/firewall/hold-worker.js --plan FILE [--queries 1000] [--rate 1000] [--seconds 5]
 */
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { DnsForwarder, type ForwardResult } from '../../lib/dns/forwarder.js';
import { openNftDriver } from '../../lib/dataplane/nft/open-backend.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';

export interface HoldReport {
  readonly queries: number;
  /** Forwarder-side time from the upstream answer to the kernel holding its addresses, ms. */
  readonly holdMs: readonly number[];
  /** Client round trips, ms. */
  readonly learnedRttMs: readonly number[];
  readonly passedRttMs: readonly number[];
  readonly paced: { readonly rate: number; readonly seconds: number; readonly answered: number; readonly servfail: number; readonly lost: number; readonly holdMs: readonly number[]; readonly results: Record<string, number> };
}

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined };

/** A loopback upstream: every A query gets one address from a /16 that moves on each time, TTL 30. */
async function upstream(): Promise<{ port: number; close: () => void }> {
  let n = 0;
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, rinfo) => {
    const q = dnsPacket.decode(m);
    n++;
    const data = `198.18.${128 + ((n >> 8) & 63)}.${n & 255}`;
    udp.send(dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 30, data }] }), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  return { port: udp.address().port, close: () => udp.close() };
}

/** One client socket with queries in flight by id; resolves each with its round trip in ms. */
function client(port: number) {
  const sock = dgram.createSocket('udp4');
  const waiting = new Map<number, { sent: number; resolve: (ms: number | undefined) => void; rcode: (c: number) => void }>();
  let id = 0;
  sock.on('message', (m) => {
    const at = performance.now();
    const p = dnsPacket.decode(m);
    const w = waiting.get(p.id ?? -1);
    if (!w) return;
    waiting.delete(p.id!);
    w.rcode((p.flags ?? 0) & 0xf);
    w.resolve(at - w.sent);
  });
  return {
    ask(name: string, onRcode: (c: number) => void = () => undefined): Promise<number | undefined> {
      id = (id + 1) & 0xffff;
      const myId = id;
      return new Promise((resolve) => {
        const timer = setTimeout(() => (waiting.delete(myId), resolve(undefined)), 3000);
        waiting.set(myId, { sent: performance.now(), resolve: (ms) => (clearTimeout(timer), resolve(ms)), rcode: onRcode });
        sock.send(dnsPacket.encode({ type: 'query', id: myId, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
      });
    },
    close: () => sock.close(),
  };
}

async function run(): Promise<void> {
  const { values } = parseArgs({ options: { plan: { type: 'string' }, queries: { type: 'string', default: '1000' }, rate: { type: 'string', default: '1000' }, seconds: { type: 'string', default: '5' } } });
  if (!values.plan) throw new Error('--plan FILE is required');
  const plan = JSON.parse(await readFile(values.plan, 'utf8')) as NodePlan;
  const queries = Number(values.queries);
  const rate = Number(values.rate);
  const seconds = Number(values.seconds);
  const nft = openNftDriver({ table: plan.nft.name, log: quiet });
  await nft.apply(plan.nft);
  const nameSet = plan.nft.sets.find((s) => s.learned && /_n\d+_4$/.test(s.name));
  if (!nameSet) throw new Error('the plan has no learned set of a rule by name');
  const up = await upstream();
  let collecting: number[] | undefined;
  const results: ForwardResult[] = [];
  const f = new DnsForwarder({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: up.port },
    rules: () => [{ pattern: '*.learn.bench', sets: { 4: nameSet.name, 6: nameSet.name.replace(/_4$/, '_6') }, appliesTo: () => true }],
    graceSeconds: 5,
    learn: (e) => nft.learn(e),
    onResult: (r, holdMs) => {
      results.push(r);
      if (r === 'learned') collecting?.push(holdMs);
    },
  });
  await f.start();
  const c = client(f.port);
  try {
    const holdMs: number[] = [];
    const learnedRttMs: number[] = [];
    const passedRttMs: number[] = [];
    collecting = holdMs;
    for (let i = 0; i < queries; i++) {
      const l = await c.ask(`q${i}.learn.bench`);
      const p = await c.ask(`q${i}.pass.bench`);
      if (l !== undefined) learnedRttMs.push(l);
      if (p !== undefined) passedRttMs.push(p);
    }
    // Paced: `rate` answers a second for `seconds`, each to learn (distinct names and addresses).
    const pacedHold: number[] = [];
    collecting = pacedHold;
    results.length = 0;
    let answered = 0;
    let servfail = 0;
    const pending: Promise<void>[] = [];
    const start = performance.now();
    const total = rate * seconds;
    for (let i = 0; i < total; i++) {
      const due = start + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(c.ask(`p${i}.learn.bench`, (code) => void (code === 2 && servfail++)).then((ms) => void (ms !== undefined && answered++)));
    }
    await Promise.all(pending);
    const report: HoldReport = { queries, holdMs, learnedRttMs, passedRttMs, paced: { rate, seconds, answered, servfail, lost: total - answered, holdMs: pacedHold, results: Object.fromEntries([...new Set(results)].map((r) => [r, results.filter((x) => x === r).length])) } };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    c.close();
    await f.close();
    up.close();
    await nft.remove();
    nft.close();
  }
}

try {
  await run();
} catch (err) {
  process.stderr.write(`hold worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exitCode = 1;
}
