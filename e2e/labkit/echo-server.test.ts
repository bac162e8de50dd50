import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { EchoReply, StreamReply } from './echo-reply.js';

const script = fileURLToPath(new URL('./echo-server.js', import.meta.url));
const hasV6Loopback = Object.values(networkInterfaces()).some((addrs) => addrs?.some((a) => a.address === '::1'));

interface Ports {
  http: number;
  tcp: number;
  udp: number;
  stream: number;
  httpDefault: number;
  https: number;
}

let server: ChildProcess;
let bound: Record<string, Ports>;
let tlsDir: string;

before(async () => {
  tlsDir = await mkdtemp(join(tmpdir(), 'sluice-echo-tls-'));
  server = spawn(process.execPath, [
    script,
    '--http=0',
    '--tcp=0',
    '--udp=0',
    '--stream=0',
    '--http-default=0',
    '--https=0',
    `--tls-dir=${tlsDir}`,
    `--tls-ips=127.0.0.1${hasV6Loopback ? ',::1' : ''}`,
    '--host4=127.0.0.1',
    `--host6=${hasV6Loopback ? '::1' : ''}`,
  ]);
  const lines = createInterface({ input: server.stdout! });
  const timer = setTimeout(() => server.kill(), 15_000);
  const [line] = (await once(lines, 'line')) as [string];
  clearTimeout(timer);
  bound = (JSON.parse(line) as { bound: Record<string, Ports> }).bound;
});

after(async () => {
  server.kill();
  await rm(tlsDir, { recursive: true, force: true });
});

/** GET / over TLS to host:port, verifying against the lab CA; `servername` is what goes into SNI. */
async function https(host: string, port: number, servername: string | undefined): Promise<EchoReply> {
  const ca = await readFile(join(tlsDir, 'ca.crt'));
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path: '/', ca, timeout: 3_000, ...(servername === undefined ? {} : { servername }) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve(JSON.parse(body) as EchoReply));
    });
    req.on('timeout', () => req.destroy(new Error('https echo timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function http(host: string, port: number): Promise<EchoReply> {
  const res = await fetch(`http://${host.includes(':') ? `[${host}]` : host}:${port}/anything`, {
    signal: AbortSignal.timeout(2_000),
  });
  assert.equal(res.headers.get('content-type'), 'application/json');
  return JSON.parse(await res.text()) as EchoReply;
}

async function tcp(host: string, port: number): Promise<{ reply: EchoReply; localPort: number }> {
  const sock = connect({ host, port });
  sock.setTimeout(2_000, () => sock.destroy(new Error('tcp echo timed out')));
  let text = '';
  sock.on('data', (d: Buffer) => (text += d.toString()));
  await once(sock, 'end');
  return { reply: JSON.parse(text) as EchoReply, localPort: sock.localPort ?? -1 };
}

async function udp(host: string, port: number): Promise<{ reply: EchoReply; localPort: number }> {
  const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  try {
    sock.send('hello', port, host);
    const timer = setTimeout(() => sock.emit('error', new Error('udp echo timed out')), 2_000);
    const [msg] = (await once(sock, 'message')) as [Buffer];
    clearTimeout(timer);
    return { reply: JSON.parse(msg.toString()) as EchoReply, localPort: sock.address().port };
  } finally {
    sock.close();
  }
}

/** Sends each line over one connection, waiting for its answer before the next. */
async function stream(host: string, port: number, lines: string[]): Promise<{ replies: StreamReply[]; localPort: number }> {
  const sock = connect({ host, port });
  sock.setTimeout(2_000, () => sock.destroy(new Error('stream echo timed out')));
  await once(sock, 'connect');
  const answers = createInterface({ input: sock })[Symbol.asyncIterator]();
  const replies: StreamReply[] = [];
  for (const line of lines) {
    sock.write(`${line}\n`);
    const next = await answers.next();
    replies.push(JSON.parse(next.value as string) as StreamReply);
  }
  const localPort = sock.localPort ?? -1;
  sock.destroy();
  return { replies, localPort };
}

for (const host of ['127.0.0.1', '::1']) {
  test(`echo answers http, tcp, udp and stream with the client's address (${host})`, { skip: host === '::1' && !hasV6Loopback }, async () => {
    const ports = bound[host]!;
    const h = await http(host, ports.http);
    assert.equal(h.clientIP, host);
    assert.equal(h.proto, 'http');
    assert.ok(h.clientPort > 0);

    const t = await tcp(host, ports.tcp);
    assert.deepEqual(t.reply, { clientIP: host, clientPort: t.localPort, proto: 'tcp' });

    const u = await udp(host, ports.udp);
    assert.deepEqual(u.reply, { clientIP: host, clientPort: u.localPort, proto: 'udp' });

    const s = await stream(host, ports.stream, ['1', 'two']);
    assert.deepEqual(s.replies, [
      { clientIP: host, clientPort: s.localPort, proto: 'stream', line: '1' },
      { clientIP: host, clientPort: s.localPort, proto: 'stream', line: 'two' },
    ]);
  });
}

test('HTTPS: a certificate for the SNI name signed by the lab CA, the SNI and the address asked in the answer', async () => {
  const ports = bound['127.0.0.1']!;
  const named = await https('127.0.0.1', ports.https, 'github.com');
  assert.deepEqual({ ...named, clientPort: 0 }, { clientIP: '127.0.0.1', clientPort: 0, proto: 'https', serverIP: '127.0.0.1', sni: 'github.com' });
  const other = await https('127.0.0.1', ports.https, 'api.example.org');
  assert.equal(other.sni, 'api.example.org', 'any name gets its own certificate');
  // No SNI (an address in the URL): the certificate for the echo's addresses.
  const byAddress = await https('127.0.0.1', ports.https, undefined);
  assert.deepEqual([byAddress.proto, byAddress.sni], ['https', null]);
  if (hasV6Loopback) assert.equal((await https('::1', ports.https, 'github.com')).clientIP, '::1');
  // A hello with a name that is no DNS name never reaches openssl: the address certificate, which fails verification for that name.
  await assert.rejects(https('127.0.0.1', ports.https, 'x;rm -rf'), /certificate|altnames|Hostname/i);
  assert.equal(server.exitCode, null, 'the echo server is still running');
  const viaDefault = await http('127.0.0.1', ports.httpDefault);
  assert.deepEqual([viaDefault.proto, viaDefault.serverIP], ['http', '127.0.0.1']);
});

test('a stream connection reset by the client leaves the service answering', async () => {
  const ports = bound['127.0.0.1']!;
  const sock = connect({ host: '127.0.0.1', port: ports.stream });
  await once(sock, 'connect');
  sock.write('1\n');
  await once(sock, 'data');
  sock.resetAndDestroy();
  await once(sock, 'close');
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(server.exitCode, null, 'the echo server is still running');
  const s = await stream('127.0.0.1', ports.stream, ['after']);
  assert.equal(s.replies[0]!.line, 'after');
  assert.equal((await http('127.0.0.1', ports.http)).proto, 'http');
});
