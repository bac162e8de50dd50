/** The lab's DNS server programs on loopback: authoritative (zone file, SIGHUP reload) and forwarding. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import dnsPacket from 'dns-packet';
import { exchangeTcp, exchangeUdp } from './forward.js';
import { describeResponse } from './wire.js';
import type { Zone } from './zone.js';

const script = fileURLToPath(new URL('./dns-server.js', import.meta.url));

interface Running {
  proc: ChildProcess;
  port: number;
  lines: string[];
  /** Resolves with the first log line after now that contains text. */
  waitFor(text: string, timeoutMs?: number): Promise<string>;
}

async function startServer(args: string[]): Promise<Running> {
  const proc = spawn(process.execPath, [script, '--listen=127.0.0.1', '--port=0', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiters: Array<{ text: string; from: number; resolve: (l: string) => void }> = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters])
      if (line.includes(w.text)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
  });
  const waitFor = (text: string, timeoutMs = 5_000) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line with ${text}; log:\n${lines.join('\n')}`)), timeoutMs);
      waiters.push({ text, from: lines.length, resolve: (l) => (clearTimeout(timer), resolve(l)) });
    });
  const ready = JSON.parse(await waitFor('"ready":true')) as { port: number };
  return { proc, port: ready.port, lines, waitFor };
}

const query = (name: string, type: 'A' | 'AAAA' = 'A') =>
  dnsPacket.encode({ type: 'query', id: 1 + Math.floor(Math.random() * 65_000), flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

const many = Array.from({ length: 40 }, (_, i) => `10.9.0.${i + 1}`);
const zoneV1: Zone = {
  records: {
    'github.com': { addresses: ['198.18.64.1'], ttl: 5, rotate: false },
    'big.test': { addresses: many, ttl: 3, rotate: false },
  },
};

let dir: string;
let zoneFile: string;
let upstream: Running;
let forwarder: Running;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sluice-dns-'));
  zoneFile = join(dir, 'zone.json');
  await writeFile(zoneFile, JSON.stringify(zoneV1));
  upstream = await startServer([`--zone=${zoneFile}`]);
  forwarder = await startServer([`--forward=127.0.0.1`, `--forward-port=${upstream.port}`, '--local-domain=cluster.local']);
});

after(async () => {
  forwarder?.proc.kill();
  upstream?.proc.kill();
  await rm(dir, { recursive: true, force: true });
});

const ask = async (server: Running, name: string, tcp = false, timeoutMs = 2_000) =>
  describeResponse(await (tcp ? exchangeTcp : exchangeUdp)(query(name), { host: '127.0.0.1', port: server.port }, timeoutMs));

/** The log lines from index `from` on, once `count` of them match (the log arrives through a pipe, after the answer). */
async function logLines(server: Running, from: number, match: (l: string) => boolean, count: number): Promise<string[]> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const found = server.lines.slice(from).filter(match);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the authoritative server answers over UDP and TCP, and logs each query', async () => {
  const from = upstream.lines.length;
  for (const tcp of [false, true]) {
    const r = await ask(upstream, 'github.com', tcp);
    assert.deepEqual([r.rcode, r.authoritative, r.answers], ['NOERROR', true, [{ name: 'github.com', type: 'A', ttl: 5, data: '198.18.64.1' }]]);
  }
  const logged = await logLines(upstream, from, (l) => l.includes('"msg":"query"'), 2);
  assert.deepEqual(
    logged.map((l) => JSON.parse(l) as { transport: string; name: string; answers: string[] }).map((q) => [q.transport, q.name, q.answers]),
    [
      ['udp', 'github.com', ['A 198.18.64.1 5']],
      ['tcp', 'github.com', ['A 198.18.64.1 5']],
    ],
  );
});

test('a big answer is truncated over UDP and whole over TCP, also through the forwarder', async () => {
  for (const server of [upstream, forwarder]) {
    const udp = await ask(server, 'big.test');
    assert.deepEqual([udp.truncated, udp.answers.length], [true, 0]);
    const tcp = await ask(server, 'big.test', true);
    assert.deepEqual([tcp.truncated, tcp.answers.length], [false, 40]);
  }
});

test('SIGHUP reloads the zone; a broken zone file keeps the last good one', async () => {
  await writeFile(zoneFile, JSON.stringify({ records: { ...zoneV1.records, 'github.com': { addresses: ['198.18.64.6'], ttl: 1, rotate: false } } }));
  let loaded = upstream.waitFor('"msg":"zone loaded"');
  upstream.proc.kill('SIGHUP');
  assert.match(await loaded, /"serial":2/);
  assert.deepEqual(
    (await ask(upstream, 'github.com')).answers.map((a) => [a.data, a.ttl]),
    [['198.18.64.6', 1]],
  );

  await writeFile(zoneFile, '{"records":{"github.com":{"addresses":["not an address"]}}}');
  const refused = upstream.waitFor('zone not loaded');
  upstream.proc.kill('SIGHUP');
  await refused;
  assert.deepEqual(
    (await ask(upstream, 'github.com')).answers.map((a) => a.data),
    ['198.18.64.6'],
    'the previous zone still answers',
  );

  await writeFile(zoneFile, JSON.stringify({ records: { 'big.test': zoneV1.records['big.test'] } }));
  loaded = upstream.waitFor('"msg":"zone loaded"');
  upstream.proc.kill('SIGHUP');
  await loaded;
  assert.equal((await ask(upstream, 'github.com')).rcode, 'NXDOMAIN', 'a deleted name is gone');
  await writeFile(zoneFile, JSON.stringify(zoneV1));
  loaded = upstream.waitFor('"msg":"zone loaded"');
  upstream.proc.kill('SIGHUP');
  await loaded;
});

test("the forwarder answers cluster names itself and relays the rest over the client's transport", async () => {
  const before = upstream.lines.length;
  const local = await ask(forwarder, 'github.com.default.svc.cluster.local');
  assert.deepEqual([local.rcode, local.authoritative], ['NXDOMAIN', true]);
  for (const tcp of [false, true]) {
    const r = await ask(forwarder, 'github.com', tcp);
    assert.deepEqual(
      r.answers.map((a) => a.data),
      ['198.18.64.1'],
    );
  }
  const seen = await logLines(upstream, before, (l) => l.includes('"msg":"query"'), 2);
  assert.deepEqual(
    seen.map((l) => JSON.parse(l) as { name: string; transport: string }).map((q) => `${q.name} ${q.transport}`),
    ['github.com udp', 'github.com tcp'],
    'cluster names never reach the upstream; TCP stays TCP',
  );
});

test('the forwarder answers SERVFAIL when its upstream is gone', async () => {
  const deadEnd = await startServer(['--forward=127.0.0.1', '--forward-port=9', '--local-domain=cluster.local']);
  try {
    const r = await ask(deadEnd, 'github.com', false, 6_000);
    assert.equal(r.rcode, 'SERVFAIL');
  } finally {
    deadEnd.proc.kill();
  }
});
