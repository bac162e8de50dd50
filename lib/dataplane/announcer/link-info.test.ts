import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DataplaneError } from './errors.js';
import { formatMac } from './ethernet.js';
import { linkSkipReason, readLink, type LinkInfo } from './link-info.js';

const up: LinkInfo = {
  name: 'eth0',
  ifindex: 2,
  mac: Uint8Array.of(2, 0, 0, 0, 0, 1),
  flags: 0x1003,
  type: 1,
  operstate: 'up',
  enslaved: false,
};

describe('linkSkipReason', () => {
  const cases: { name: string; link: LinkInfo | undefined; reason: string | undefined }[] = [
    { name: 'usable ethernet link', link: up, reason: undefined },
    { name: 'operstate unknown (no carrier reporting)', link: { ...up, operstate: 'unknown' }, reason: undefined },
    { name: 'missing', link: undefined, reason: 'linkMissing' },
    { name: 'admin down', link: { ...up, flags: 0x1002 }, reason: 'linkDown' },
    { name: 'no carrier', link: { ...up, operstate: 'down' }, reason: 'linkDown' },
    { name: 'lower layer down', link: { ...up, operstate: 'lowerlayerdown' }, reason: 'linkDown' },
    { name: 'NOARP', link: { ...up, flags: 0x1083 }, reason: 'noArp' },
    { name: 'bridge port', link: { ...up, enslaved: true }, reason: 'enslaved' },
    { name: 'not ARPHRD_ETHER (ipip)', link: { ...up, type: 768 }, reason: 'notEthernet' },
    { name: 'no MAC', link: { ...up, mac: undefined }, reason: 'notEthernet' },
  ];
  for (const c of cases) test(c.name, () => assert.equal(linkSkipReason(c.link), c.reason));
});

describe('readLink from a fake /sys/class/net', () => {
  let root = '';
  const link = async (name: string, files: Record<string, string>, master = false): Promise<void> => {
    await mkdir(join(root, name), { recursive: true });
    for (const [file, content] of Object.entries(files)) await writeFile(join(root, name, file), `${content}\n`);
    if (master) await writeFile(join(root, name, 'master'), '');
  };
  const eth = { ifindex: '7', address: '52:54:00:12:34:56', flags: '0x1003', type: '1', operstate: 'up' };

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'sl-ann-sys-'));
    await link('eth0', eth);
    await link('port0', eth, true);
    await link('tun0', { ...eth, address: '', type: '65534', flags: '0x10d1', operstate: 'unknown' });
    await link('bad0', { ...eth, ifindex: 'seven' });
    await link('old0', { ifindex: '9', address: '52:54:00:12:34:57', flags: '0x1003', type: '1' });
  });
  after(() => rm(root, { recursive: true, force: true }));

  test('reads ifindex, MAC, flags, type, operstate', async () => {
    const l = await readLink('eth0', root);
    assert.ok(l);
    assert.equal(l.ifindex, 7);
    assert.equal(formatMac(l.mac!), '52:54:00:12:34:56');
    assert.equal(l.flags, 0x1003);
    assert.equal(l.enslaved, false);
    assert.equal(linkSkipReason(l), undefined);
  });
  test('reading a link asks nothing of the thread pool (an idle node wakes no thread for it)', async () => {
    const pending = readLink('eth0', root);
    assert.deepEqual(
      process.getActiveResourcesInfo().filter((r) => r.startsWith('FSReq')),
      [],
    );
    assert.equal((await pending)?.ifindex, 7);
  });
  test('a master link means enslaved', async () => {
    assert.equal(linkSkipReason(await readLink('port0', root)), 'enslaved');
  });
  test('a tun device has no MAC and is NOARP', async () => {
    const l = await readLink('tun0', root);
    assert.equal(l?.mac, undefined);
    assert.equal(linkSkipReason(l), 'noArp');
  });
  test('missing operstate reads as unknown', async () => {
    assert.equal((await readLink('old0', root))?.operstate, 'unknown');
  });
  test('a missing link is undefined', async () => assert.equal(await readLink('nope0', root), undefined));
  test('a malformed file is a coded error', async () => {
    await assert.rejects(readLink('bad0', root), (err) => {
      return err instanceof DataplaneError && err.code === 'EGW_ERR_ANNOUNCE_LINK';
    });
  });
});
