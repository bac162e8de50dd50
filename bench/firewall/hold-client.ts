/**
 * The other side of the DNS hold benchmark, in its own process so that it takes no time from the
 * forwarder's (as a pod and the cluster DNS would not): a loopback upstream DNS server and the
 * client that asks the forwarder. Started by hold-worker.ts in the same network namespace; speaks
 * JSON lines: prints `{"upstream":PORT}`, reads a ClientRequest, prints `{"phase":NAME}` as each
 * phase starts and `{"report":ClientReport}` at the end.
 */
import dgram from 'node:dgram';
import { createInterface } from 'node:readline';
import dnsPacket from 'dns-packet';

/** What the client and the upstream saw. */
export interface ClientReport {
  readonly learnedRttMs: readonly number[];
  readonly passedRttMs: readonly number[];
  readonly paced: readonly PacedReport[];
}

export interface PacedReport {
  readonly rate: number;
  readonly seconds: number;
  readonly sent: number;
  readonly answered: number;
  readonly servfail: number;
  /** No answer within ANSWER_WAIT_MS. */
  readonly lost: number;
  /** Queries that reached the upstream, and answers it sent. */
  readonly upstreamReceived: number;
  readonly rttMs: readonly number[];
}

export interface ClientRequest {
  readonly forwarder: number;
  readonly queries: number;
  readonly rates: readonly number[];
  readonly seconds: number;
}

const ANSWER_WAIT_MS = 3000;

/** Every A query gets one address from a /16 that moves on each time, TTL 30. */
async function upstream(): Promise<{ port: number; received: () => number; close: () => void }> {
  let n = 0;
  const udp = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  udp.on('message', (m, rinfo) => {
    const q = dnsPacket.decode(m);
    n++;
    const data = `198.18.${128 + ((n >> 8) & 63)}.${n & 255}`;
    udp.send(
      dnsPacket.encode({
        type: 'response',
        id: q.id,
        flags: dnsPacket.RECURSION_AVAILABLE,
        questions: q.questions,
        answers: [{ type: 'A', name: q.questions![0]!.name, ttl: 30, data }],
      }),
      rinfo.port,
      rinfo.address,
    );
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  return { port: udp.address().port, received: () => n, close: () => udp.close() };
}

/** One client socket with queries in flight by id; resolves each with its round trip in ms. */
function client(port: number) {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
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
        const timer = setTimeout(() => (waiting.delete(myId), resolve(undefined)), ANSWER_WAIT_MS);
        waiting.set(myId, { sent: performance.now(), resolve: (ms) => (clearTimeout(timer), resolve(ms)), rcode: onRcode });
        sock.send(dnsPacket.encode({ type: 'query', id: myId, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
      });
    },
    close: () => sock.close(),
  };
}

async function paced(c: ReturnType<typeof client>, up: { received: () => number }, rate: number, seconds: number, tag: string): Promise<PacedReport> {
  const before = up.received();
  let answered = 0;
  let servfail = 0;
  const rttMs: number[] = [];
  const pending: Promise<void>[] = [];
  const start = performance.now();
  const total = rate * seconds;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(
      c
        .ask(`${tag}${i}.learn.bench`, (code) => void (code === 2 && servfail++))
        .then((ms) => {
          if (ms === undefined) return;
          answered++;
          rttMs.push(ms);
        }),
    );
  }
  await Promise.all(pending);
  return { rate, seconds, sent: total, answered, servfail, lost: total - answered, upstreamReceived: up.received() - before, rttMs };
}

async function run(): Promise<void> {
  const up = await upstream();
  process.stdout.write(`${JSON.stringify({ upstream: up.port })}\n`);
  const lines = createInterface({ input: process.stdin });
  const request = JSON.parse((await lines[Symbol.asyncIterator]().next()).value as string) as ClientRequest;
  lines.close();
  const c = client(request.forwarder);
  try {
    // The forwarder's side files what it sees under the phase last announced: a pause after each.
    const phase = async (name: string) => {
      process.stdout.write(`${JSON.stringify({ phase: name })}\n`);
      await new Promise((r) => setTimeout(r, 200));
    };
    await phase('alternated');
    const learnedRttMs: number[] = [];
    const passedRttMs: number[] = [];
    // Alternated, so both kinds see the same machine.
    for (let i = 0; i < request.queries; i++) {
      const l = await c.ask(`q${i}.learn.bench`);
      const p = await c.ask(`q${i}.pass.bench`);
      if (l !== undefined) learnedRttMs.push(l);
      if (p !== undefined) passedRttMs.push(p);
    }
    const reports: PacedReport[] = [];
    for (const [k, rate] of request.rates.entries()) {
      await phase(`paced-${k}`);
      reports.push(await paced(c, up, rate, request.seconds, `p${k}r`));
    }
    await phase('done');
    const report: ClientReport = { learnedRttMs, passedRttMs, paced: reports };
    process.stdout.write(`${JSON.stringify({ report })}\n`);
  } finally {
    c.close();
    up.close();
  }
}

try {
  await run();
} catch (err) {
  process.stderr.write(`hold client: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
