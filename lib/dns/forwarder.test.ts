import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import { DnsForwarder, type ForwardResult } from './forwarder.js';
import { listenOnOnePort } from './one-port.js';
import type { DnsRuleTarget, LearnedElement } from './learn.js';

/** A loopback DNS server answering every A query with two addresses, TTL 1, on UDP and TCP. */
async function upstream() {
  const reply = (msg: Buffer) => {
    const q = dnsPacket.decode(msg);
    const name = q.questions![0]!.name;
    return dnsPacket.encode({
      type: 'response',
      id: q.id,
      flags: dnsPacket.RECURSION_AVAILABLE,
      questions: q.questions,
      answers: [
        { type: 'A', name, ttl: 1, data: '198.18.1.10' },
        { type: 'A', name, ttl: 1, data: '198.18.1.11' },
      ],
    });
  };
  const { udp, tcp } = await listenOnOnePort('127.0.0.1', 0, {
    udp: () => dgram.createSocket('udp4'),
    tcp: () =>
      net.createServer((s) =>
        s.on('data', (d) => {
          const body = reply(d.subarray(2));
          const framed = Buffer.alloc(2 + body.length);
          framed.writeUInt16BE(body.length, 0);
          body.copy(framed, 2);
          s.end(framed);
        }),
      ),
  });
  udp.on('message', (m, rinfo) => udp.send(reply(m), rinfo.port, rinfo.address));
  const port = udp.address().port;
  return { port, close: () => Promise.all([new Promise((r) => udp.close(() => r(undefined))), new Promise((r) => tcp.close(() => r(undefined)))]) };
}

const rule = (pattern: string, client: string): DnsRuleTarget => ({ pattern, sets: { 4: 'set4', 6: 'set6' }, appliesTo: (c) => c === client });

async function askUdp(port: number, name: string): Promise<{ packet: dnsPacket.DecodedPacket; at: number }> {
  const s = dgram.createSocket('udp4');
  try {
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer')), 3000);
      s.on('message', (m) => {
        clearTimeout(timer);
        resolve({ packet: dnsPacket.decode(m), at: performance.now() });
      });
      s.send(dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] }), port, '127.0.0.1');
    });
  } finally {
    s.close();
  }
}

async function askTcp(port: number, name: string): Promise<dnsPacket.DecodedPacket> {
  const body = dnsPacket.encode({ type: 'query', id: 99, questions: [{ type: 'A', name }] });
  const framed = Buffer.alloc(2 + body.length);
  framed.writeUInt16BE(body.length, 0);
  body.copy(framed, 2);
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(framed));
    let buf = Buffer.alloc(0);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        resolve(dnsPacket.decode(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        s.end();
      }
    });
    s.on('error', reject);
  });
}

async function forwarder(up: number, learn: (e: readonly LearnedElement[]) => Promise<void>, results: ForwardResult[]) {
  const f = new DnsForwarder({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: up },
    rules: () => [rule('github.com', '127.0.0.1')],
    graceSeconds: 3,
    learn,
    onResult: (r) => results.push(r),
  });
  await f.start();
  return f;
}

test('the answer reaches the pod only after its addresses are in the set, over UDP and TCP', async () => {
  const up = await upstream();
  const results: ForwardResult[] = [];
  const learnedAt: number[] = [];
  const elements: LearnedElement[] = [];
  const f = await forwarder(
    up.port,
    async (e) => {
      await new Promise((r) => setTimeout(r, 50));
      elements.push(...e);
      learnedAt.push(performance.now());
    },
    results,
  );
  try {
    const { packet, at } = await askUdp(f.port, 'GitHub.com');
    assert.equal(packet.id, 4242);
    assert.deepEqual(
      packet.answers!.map((a) => (a as { data: unknown }).data),
      ['198.18.1.10', '198.18.1.11'],
    );
    assert.ok(learnedAt[0]! <= at, 'the set held the addresses before the answer arrived');
    assert.deepEqual(
      elements.map((e) => [e.set, e.address, e.timeoutSeconds]),
      [
        ['set4', '198.18.1.10', 4],
        ['set4', '198.18.1.11', 4],
      ],
    );
    const tcp = await askTcp(f.port, 'github.com');
    assert.equal(tcp.answers!.length, 2);
    assert.equal(learnedAt.length, 2, 'the TCP answer was learned too');
    const other = await askUdp(f.port, 'google.com');
    assert.equal(other.packet.answers!.length, 2, 'a name no rule names passes untouched');
    assert.deepEqual(results, ['learned', 'learned', 'passed']);
  } finally {
    await f.close();
    await up.close();
  }
});

test('when the addresses cannot be put into the set the pod gets SERVFAIL, never an address that would be refused', async () => {
  const up = await upstream();
  const results: ForwardResult[] = [];
  const f = await forwarder(up.port, () => Promise.reject(new Error('nft failed')), results);
  try {
    const { packet } = await askUdp(f.port, 'github.com');
    assert.equal(packet.id, 4242);
    assert.equal((packet.flags ?? 0) & 0xf, 2, 'SERVFAIL');
    assert.deepEqual(packet.answers ?? [], []);
    assert.deepEqual(results, ['servfail']);
  } finally {
    await f.close();
    await up.close();
  }
});

test('a query from an address that is not a steered pod goes unanswered and is counted (no open door to the cluster DNS)', async () => {
  const up = await upstream();
  const results: ForwardResult[] = [];
  const f = new DnsForwarder({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: up.port },
    rules: () => [],
    serves: (c) => c === '10.244.1.5',
    graceSeconds: 3,
    learn: async () => undefined,
    onResult: (r) => results.push(r),
  });
  await f.start();
  try {
    await assert.rejects(askUdp(f.port, 'kubernetes.default.svc.cluster.local'), /no answer/);
    assert.deepEqual(results, ['stranger']);
    const served = await f.answer(dnsPacket.encode({ type: 'query', id: 7, questions: [{ type: 'A', name: 'a.test' }] }), '::ffff:10.244.1.5', 'udp');
    assert.ok(served, 'a steered pod is answered');
  } finally {
    await f.close();
    await up.close();
  }
});

test('concurrent queries from pods reuse a few upstream sockets, and each pod gets its own answer under its own ID', { timeout: 20_000 }, async () => {
  const ports = new Set<number>();
  const udp = dgram.createSocket('udp4');
  const held: (() => void)[] = [];
  udp.on('message', (m, rinfo) => {
    ports.add(rinfo.port);
    const q = dnsPacket.decode(m);
    const name = q.questions![0]!.name;
    held.push(() =>
      udp.send(
        dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'TXT', name, data: name }] }),
        rinfo.port,
        rinfo.address,
      ),
    );
  });
  await new Promise<void>((r) => udp.bind(0, '127.0.0.1', () => r()));
  const f = new DnsForwarder({
    listen: { host: '127.0.0.1', port: 0 },
    upstream: { host: '127.0.0.1', port: udp.address().port },
    rules: () => [],
    graceSeconds: 3,
    learn: async () => undefined,
  });
  await f.start();
  try {
    const answers = Array.from({ length: 64 }, (_, i) =>
      f.answer(dnsPacket.encode({ type: 'query', id: 4242, questions: [{ type: 'TXT', name: `n${i}.test` }] }), '127.0.0.1', 'udp'),
    );
    while (held.length < 64) await new Promise((r) => setTimeout(r, 5));
    for (const reply of held.reverse()) reply();
    const got = (await Promise.all(answers)).map((a) => dnsPacket.decode(a!));
    assert.ok(ports.size <= 4, `${ports.size} upstream sockets for 64 queries`);
    got.forEach((p, i) => {
      assert.equal(p.id, 4242);
      assert.equal(String((p.answers![0] as { data: Buffer[] }).data[0]), `n${i}.test`);
    });
  } finally {
    await f.close();
    await new Promise<void>((r) => udp.close(() => r()));
  }
});
