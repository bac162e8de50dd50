import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import net from 'node:net';
import { test } from 'node:test';
import { listenOnOnePort } from './one-port.js';

const listening = (server: net.Server, port: number) =>
  new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
const closed = (server: net.Server) => new Promise((r) => server.close(r));

test('a kernel-chosen UDP port whose number TCP finds taken is picked again; both end up on one port', async () => {
  const udps: dgram.Socket[] = [];
  const blocker = net.createServer();
  let tcps = 0;
  const bound = listenOnOnePort('127.0.0.1', 0, {
    udp: () => {
      const s = dgram.createSocket('udp4');
      udps.push(s);
      return s;
    },
    tcp: () => {
      // the first time, something else holds TCP on the number the kernel gave UDP
      if (tcps++ === 0) void listening(blocker, udps[0]!.address().port);
      return net.createServer();
    },
  });
  try {
    const { udp, tcp } = await bound;
    try {
      assert.equal(udps.length, 2, 'tried again');
      assert.equal((tcp.address() as net.AddressInfo).port, udp.address().port);
      assert.notEqual(udp.address().port, (blocker.address() as net.AddressInfo).port);
      assert.throws(() => udps[0]!.address(), 'the first UDP socket was closed');
    } finally {
      udp.close();
      await closed(tcp);
    }
  } finally {
    if (blocker.listening) await closed(blocker);
  }
});

test('a given port that TCP finds taken is an error at once, and nothing stays bound', async () => {
  const blocker = net.createServer();
  await listening(blocker, 0);
  const port = (blocker.address() as net.AddressInfo).port;
  let tries = 0;
  try {
    await assert.rejects(
      listenOnOnePort('127.0.0.1', port, {
        udp: () => (tries++, dgram.createSocket('udp4')),
        tcp: () => net.createServer(),
      }),
      { code: 'EADDRINUSE' },
    );
    assert.equal(tries, 1);
    const again = dgram.createSocket('udp4');
    await new Promise<void>((r) => again.bind(port, '127.0.0.1', () => r()));
    again.close();
  } finally {
    await closed(blocker);
  }
});
