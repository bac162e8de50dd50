/**
 * Root only: real frames through a veth pair between two lab namespaces. The sender runs in its
 * own namespace as a child process; tcpdump captures on the receiving side; the receiver's
 * neighbour cache must move the EIPs to the sender's MAC.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { parseAnnounceTarget } from './announce-target.js';
import { buildGratuitousArp } from './arp-frame.js';
import { parseMac } from './ethernet.js';
import { buildUnsolicitedNa } from './na-frame.js';
import { BoundedProcess } from './testing/bounded-process.js';
import { NetnsLab } from './testing/netns-lab.js';
import type { SenderReport } from './testing/netns-sender.js';
import { parsePcap, type CapturedFrame } from './testing/pcap.js';
import { hasCommand, runCommand } from './testing/run-command.js';

const EIP4 = '198.18.0.100';
const EIP6 = 'fd00:198:18::100';
const WRONG_MAC = '02:00:00:00:00:99';
const SENDER = fileURLToPath(new URL('./testing/netns-sender.js', import.meta.url));

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, AF_PACKET); run as root to include it';
  for (const cmd of ['ip', 'tcpdump']) if (!(await hasCommand(cmd))) return `needs ${cmd} on PATH`;
  return undefined;
}

interface Neighbour {
  dst: string;
  lladdr?: string;
  state?: string[];
}

test('GARP and unsolicited NA reach a peer namespace and move its neighbour entries', async (t) => {
  const skip = await skipReason();
  if (skip !== undefined) {
    t.skip(skip);
    return;
  }
  const lab = new NetnsLab();
  const dir = await mkdtemp(join(tmpdir(), `${lab.prefix}-`));
  const processes: BoundedProcess[] = [];
  let cleanupProblems: string[] = [];
  try {
    const tx = await lab.add('tx');
    const rx = await lab.add('rx');
    await lab.ip(tx, 'link', 'add', 'tx0', 'type', 'veth', 'peer', 'name', 'rx0', 'netns', rx);
    await lab.ip(tx, 'addr', 'add', '198.18.0.1/24', 'dev', 'tx0');
    await lab.ip(tx, 'addr', 'add', `${EIP4}/32`, 'dev', 'tx0');
    await lab.ip(tx, 'addr', 'add', 'fd00:198:18::1/64', 'dev', 'tx0', 'nodad');
    await lab.ip(tx, 'addr', 'add', `${EIP6}/128`, 'dev', 'tx0', 'nodad');
    await lab.ip(rx, 'addr', 'add', '198.18.0.2/24', 'dev', 'rx0');
    await lab.ip(rx, 'addr', 'add', 'fd00:198:18::2/64', 'dev', 'rx0', 'nodad');
    await lab.ip(tx, 'link', 'set', 'tx0', 'up');
    await lab.ip(rx, 'link', 'set', 'rx0', 'up');
    // Links the announcer must skip, read from the namespace's real sysfs.
    await lab.ip(tx, 'link', 'add', 'noarp0', 'type', 'veth', 'peer', 'name', 'noarp1');
    await lab.ip(tx, 'link', 'set', 'noarp0', 'arp', 'off', 'up');
    await lab.ip(tx, 'link', 'set', 'noarp1', 'up');
    await lab.ip(tx, 'link', 'add', 'down0', 'type', 'veth', 'peer', 'name', 'down1');
    await lab.ip(tx, 'link', 'add', 'br0', 'type', 'bridge');
    await lab.ip(tx, 'link', 'add', 'port0', 'type', 'veth', 'peer', 'name', 'port1');
    await lab.ip(tx, 'link', 'set', 'port0', 'master', 'br0', 'up');
    await lab.ip(tx, 'link', 'set', 'port1', 'up');
    await lab.waitReady(tx, 'tx0');
    await lab.waitReady(rx, 'rx0');
    await lab.waitReady(tx, 'noarp0');

    // The peer believes the EIPs live elsewhere (the old gateway).
    await lab.ip(rx, 'neigh', 'replace', EIP4, 'lladdr', WRONG_MAC, 'dev', 'rx0', 'nud', 'stale');
    await lab.ip(rx, '-6', 'neigh', 'replace', EIP6, 'lladdr', WRONG_MAC, 'dev', 'rx0', 'nud', 'stale');
    const txMac = await lab.macOf(tx, 'tx0');

    // Everything is configured before capture starts, so the kernel's own frames are not counted.
    const pcapFile = join(dir, 'rx0.pcap');
    const filter = `ether src ${txMac} and (arp or (icmp6 and ip6[40] == 136))`;
    const tcpdump = new BoundedProcess('ip', [...['netns', 'exec', rx, 'tcpdump', '-i', 'rx0', '-n', '-U', '-Z', 'root', '-c', '6', '-w', pcapFile, filter]]);
    processes.push(tcpdump);
    await tcpdump.stderrIncludes('listening on', 5_000);

    const sender = new BoundedProcess('ip', [
      ...['netns', 'exec', tx, process.execPath, SENDER, '--ifname', 'tx0', '--ip', EIP4, '--ip', EIP6],
      ...['--probe', 'noarp0', '--probe', 'down0', '--probe', 'port0', '--probe', 'lo', '--probe', 'nope0'],
      ...['--wait-ms', '400', '--refresh-ms', '60000'],
    ]);
    processes.push(sender);
    assert.equal(await sender.exited(15_000), 0, `sender failed: ${sender.stderr}`);
    assert.equal(await tcpdump.exited(5_000), 0, `tcpdump: ${tcpdump.stderr}`);

    const report = JSON.parse(sender.stdout) as SenderReport;
    const byKey = new Map(report.status.map((s) => [`${s.ip}@${s.ifname}`, s]));
    await t.test('sender counts 3 frames per EIP and the right skip reasons', () => {
      for (const ip of [EIP4, EIP6]) {
        const s = byKey.get(`${ip}@tx0`);
        assert.equal(s?.framesSent, 3, JSON.stringify(s));
        assert.equal(s?.lastError, null);
      }
      const skips = Object.fromEntries(['noarp0', 'down0', 'port0', 'lo', 'nope0'].map((ifname) => [ifname, byKey.get(`${EIP4}@${ifname}`)?.lastSkip]));
      assert.deepEqual(skips, {
        noarp0: 'noArp',
        down0: 'linkDown',
        port0: 'enslaved',
        lo: 'notEthernet',
        nope0: 'linkMissing',
      });
    });

    const frames = parsePcap(await readFile(pcapFile));
    const mac = parseMac(txMac);
    const arp = buildGratuitousArp(mac, parseAnnounceTarget(EIP4).bytes).bytes;
    const na = buildUnsolicitedNa(mac, parseAnnounceTarget(EIP6).bytes).bytes;
    await t.test('the peer receives exactly the built frames, 3 each, in a 0/50/200 ms burst', () => {
      const arps = frames.filter((f) => f.bytes.readUInt16BE(12) === 0x0806);
      const nas = frames.filter((f) => f.bytes.readUInt16BE(12) === 0x86dd);
      assert.equal(arps.length, 3);
      assert.equal(nas.length, 3);
      for (const f of arps) assert.equal(f.bytes.toString('hex'), arp.toString('hex'));
      for (const f of nas) assert.equal(f.bytes.toString('hex'), na.toString('hex'));
      for (const burst of [arps, nas]) assertBurstSpacing(burst);
    });

    await t.test('tcpdump decodes them as GARP and override NA with a valid checksum', async () => {
      const { stdout } = await runCommand('tcpdump', ['-r', pcapFile, '-n', '-e', '-vv']);
      assert.match(stdout, new RegExp(`${txMac} > ff:ff:ff:ff:ff:ff, ethertype ARP`));
      const eip4 = EIP4.replaceAll('.', '\\.');
      assert.match(stdout, new RegExp(`Request who-has ${eip4} tell ${eip4}`));
      assert.match(stdout, new RegExp(`${txMac} > 33:33:00:00:00:01, ethertype IPv6`));
      assert.match(stdout, /hlim 255/);
      assert.match(stdout, new RegExp(`${EIP6} > ff02::1: \\[icmp6 sum ok\\] ICMP6, neighbor advertisement`));
      assert.match(stdout, new RegExp(`tgt is ${EIP6}, Flags \\[override\\]`));
      // tcpdump calls option 2 (target link-layer address) "destination link-address".
      assert.match(stdout, new RegExp(`destination link-address option \\(2\\), length 8 \\(1\\): ${txMac}`));
    });

    await t.test("the peer's neighbour cache now maps both EIPs to the sender's MAC", async () => {
      const v4 = await lab.ipJson<Neighbour[]>(rx, '-4', 'neigh', 'show', 'dev', 'rx0');
      const v6 = await lab.ipJson<Neighbour[]>(rx, '-6', 'neigh', 'show', 'dev', 'rx0');
      assert.equal(v4.find((n) => n.dst === EIP4)?.lladdr, txMac, JSON.stringify(v4));
      assert.equal(v6.find((n) => n.dst === EIP6)?.lladdr, txMac, JSON.stringify(v6));
    });
  } finally {
    for (const p of processes) p.kill();
    await Promise.all(processes.map((p) => p.exited(5_000).catch(() => undefined)));
    cleanupProblems = await lab.cleanup();
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(cleanupProblems, [], 'cleanup');
});

function assertBurstSpacing(burst: CapturedFrame[]): void {
  const offsetsMs = burst.map((f) => (f.atUs - burst[0]!.atUs) / 1000);
  // Timers never fire early (1 ms of rounding allowed); late is bounded loosely for a busy 2-core box.
  assert.ok(offsetsMs[1]! >= 49 && offsetsMs[1]! < 1000, `second frame at ${offsetsMs[1]} ms`);
  assert.ok(offsetsMs[2]! >= 199 && offsetsMs[2]! < 2000, `third frame at ${offsetsMs[2]} ms`);
}
