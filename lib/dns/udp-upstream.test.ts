import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import dnsPacket from 'dns-packet';
import { questionSection, UdpUpstream, UpstreamError } from './udp-upstream.js';

type Asked = { id: number; name: string; port: number; reply: (answer?: Partial<dnsPacket.Packet>) => void };

/** A loopback server that hands each query to the test, which answers when and how it likes. */
async function server(onQuery: (q: Asked) => void) {
  const udp = dgram.createSocket('udp4');
  udp.on('message', (m, rinfo) => {
    const q = dnsPacket.decode(m);
    const name = q.questions![0]!.name;
    onQuery({
      id: q.id!,
      name,
      port: rinfo.port,
      reply: (over = {}) =>
        udp.send(dnsPacket.encode({ type: 'response', id: q.id, questions: q.questions, answers: [{ type: 'TXT', name, data: name }], ...over }), rinfo.port, rinfo.address),
    });
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  return { port: udp.address().port, close: () => new Promise<void>((r) => udp.close(() => r())) };
}

const query = (id: number, name: string) => dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'TXT', name }] });
const txt = (answer: Buffer) => String((dnsPacket.decode(answer).answers![0] as { data: Buffer[] }).data[0]);

test('queries share a few sockets under IDs of their own; answers in any order go back to their query with its ID', { timeout: 20_000 }, async () => {
  const asked: Asked[] = [];
  const up = await server((q) => asked.push(q));
  const u = new UdpUpstream({ host: '127.0.0.1', port: up.port, timeoutMs: 5000, sockets: 4 });
  try {
    // Pods pick IDs on their own: many queries in flight carry the same one.
    const answers = Array.from({ length: 200 }, (_, i) => u.ask(query(7, `n${i}.test`)));
    while (asked.length < 200) await new Promise((r) => setTimeout(r, 5));
    const ports = new Set(asked.map((q) => q.port));
    assert.ok(ports.size <= 4, `${ports.size} source ports for 200 queries`);
    for (const port of ports) {
      const ids = asked.filter((q) => q.port === port).map((q) => q.id);
      assert.equal(new Set(ids).size, ids.length, 'IDs in flight on one socket are distinct');
    }
    for (const q of [...asked].reverse()) q.reply();
    const got = await Promise.all(answers);
    got.forEach((a, i) => {
      assert.equal(a.readUInt16BE(0), 7, 'the pod gets its own ID back');
      assert.equal(txt(a), `n${i}.test`, 'and the answer to its own question');
    });
    assert.equal(u.inFlight, 0);
  } finally {
    u.close();
    await up.close();
  }
});

test('an answer with an ID not in flight, another question, or from another port is ignored; the real one is taken', { timeout: 20_000 }, async () => {
  const asked: Asked[] = [];
  const up = await server((q) => asked.push(q));
  const u = new UdpUpstream({ host: '127.0.0.1', port: up.port, timeoutMs: 5000, sockets: 1 });
  const spoofer = dgram.createSocket('udp4');
  try {
    const answer = u.ask(query(99, 'real.test'));
    while (asked.length < 1) await new Promise((r) => setTimeout(r, 5));
    const q = asked[0]!;
    q.reply({ id: (q.id + 1) & 0xffff, answers: [{ type: 'TXT', name: 'real.test', data: 'wrong id' }] });
    q.reply({ questions: [{ type: 'TXT', name: 'other.test' }], answers: [{ type: 'TXT', name: 'other.test', data: 'wrong question' }] });
    // The right ID and question, but not from the server's port.
    const forged = dnsPacket.encode({ type: 'response', id: q.id, questions: [{ type: 'TXT', name: 'real.test' }], answers: [{ type: 'TXT', name: 'real.test', data: 'forged' }] });
    await new Promise<void>((r) => spoofer.send(forged, q.port, '127.0.0.1', () => r()));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(u.inFlight, 1, 'still waiting for the real answer');
    q.reply({ questions: [{ type: 'TXT', name: 'REAL.test' }], answers: [{ type: 'TXT', name: 'real.test', data: 'real' }] });
    const a = await answer;
    assert.equal(txt(a), 'real', 'a server may change the case of the name');
    assert.equal(a.readUInt16BE(0), 99);
  } finally {
    spoofer.close();
    u.close();
    await up.close();
  }
});

test('a query without an answer times out; a socket is replaced after its share of queries; a malformed query is refused', { timeout: 20_000 }, async () => {
  const asked: Asked[] = [];
  const up = await server((q) => asked.push(q));
  const u = new UdpUpstream({ host: '127.0.0.1', port: up.port, timeoutMs: 100, sockets: 1, queriesPerSocket: 3 });
  try {
    await assert.rejects(u.ask(query(1, 'silent.test')), (err: unknown) => err instanceof UpstreamError && err.reason === 'timeout');
    for (let i = 0; i < 5; i++) {
      const a = u.ask(query(i, `r${i}.test`));
      while (asked.length < i + 2) await new Promise((r) => setTimeout(r, 5));
      asked.at(-1)!.reply();
      await a;
    }
    assert.deepEqual(
      asked.map((q) => q.port).map((p) => (p === asked[0]!.port ? 'first' : p === asked[3]!.port ? 'second' : 'other')),
      ['first', 'first', 'first', 'second', 'second', 'second'],
    );
    const two = dnsPacket.encode({
      type: 'query',
      id: 5,
      questions: [
        { type: 'A', name: 'a.test' },
        { type: 'A', name: 'b.test' },
      ],
    });
    await assert.rejects(u.ask(two), (err: unknown) => err instanceof UpstreamError && err.reason === 'malformed-query');
    await assert.rejects(u.ask(Buffer.from([0, 1, 2])), (err: unknown) => err instanceof UpstreamError && err.reason === 'malformed-query');
  } finally {
    u.close();
    await up.close();
  }
});

test('questionSection: one plain question only', () => {
  const q = query(1, 'a.example');
  assert.deepEqual(questionSection(q), q.subarray(12));
  const compressed = Buffer.from(q);
  compressed[12] = 0xc0;
  assert.equal(questionSection(compressed), undefined);
  assert.equal(questionSection(q.subarray(0, q.length - 1)), undefined, 'truncated');
});
