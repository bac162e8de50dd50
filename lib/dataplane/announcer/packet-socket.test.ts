import assert from 'node:assert/strict';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { DataplaneError } from './errors.js';
import { loadPacketSocketAddon, nameErrno, packetSocketOpener } from './packet-socket.js';

const isCode = (code: string) => (err: unknown) => err instanceof DataplaneError && err.code === code;

test('a missing addon is EGW_ERR_ANNOUNCE_NATIVE with a hint', async () => {
  // Copies of the modules in a directory with no native/build above it.
  const root = await mkdtemp(join(tmpdir(), 'sl-ann-noaddon-'));
  const dir = join(root, 'dataplane', 'announcer');
  try {
    await mkdir(dir, { recursive: true });
    await copyFile(fileURLToPath(new URL('../../errors.js', import.meta.url)), join(root, 'errors.js'));
    for (const file of ['packet-socket.js', 'errors.js']) {
      await copyFile(fileURLToPath(new URL(file, import.meta.url)), join(dir, file));
    }
    const mod = (await import(join(dir, 'packet-socket.js'))) as typeof import('./packet-socket.js');
    // The copy has its own DataplaneError class, so compare by name and code.
    assert.throws(() => mod.loadPacketSocketAddon(), {
      name: 'DataplaneError',
      code: 'EGW_ERR_ANNOUNCE_NATIVE',
      message: /packet_socket\.node not found .* run `npm ci`/,
    });
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('the addon reports system errors with errno and syscall', () => {
  const addon = loadPacketSocketAddon();
  assert.throws(
    () => addon.send(-1, 1, 0x0806, Buffer.alloc(6), Buffer.alloc(42)),
    (err: unknown) => {
      assert.equal((err as { syscall?: string }).syscall, 'sendto');
      assert.equal(nameErrno(err), 'EBADF');
      assert.equal((err as { code?: string }).code, 'EBADF');
      return true;
    },
  );
});

test('the addon rejects malformed arguments', () => {
  const addon = loadPacketSocketAddon();
  assert.throws(() => addon.send(-1, 1, 0x0806, Buffer.alloc(5), Buffer.alloc(42)), TypeError);
  assert.throws(() => addon.send(-1, 1, 0x0806, Buffer.alloc(6), 'frame' as unknown as Buffer), TypeError);
  assert.throws(() => addon.open('2' as unknown as number), TypeError);
});

test('opening fails with EGW_ERR_ANNOUNCE_SOCKET: ENODEV, or EPERM without CAP_NET_RAW', () => {
  // Creates and closes one unbound socket; sends nothing anywhere.
  const open = packetSocketOpener();
  assert.throws(
    () => open(0x7ffffff0),
    (err: unknown) => {
      assert.ok(isCode('EGW_ERR_ANNOUNCE_SOCKET')(err));
      const errno = nameErrno((err as Error).cause);
      assert.ok(errno === 'ENODEV' || errno === 'EPERM', errno);
      return true;
    },
  );
});
