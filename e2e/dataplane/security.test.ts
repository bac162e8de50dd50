/**
 * The gateway is not an open relay. A host on the LAN (the lab's control host, which runs nothing
 * with `plugins: []`) tries to get its traffic out with the EIP: by routing through the gateway
 * or a worker, by spoofing a selected pod's address, and by speaking VXLAN to the gateway. It
 * also tries to open connections to the EIP, while a pod's established flow keeps working.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Lab } from '../labkit/lab.js';
import type { LabInfo } from '../labkit/info.js';
import type { NodePlan } from '../../lib/planner/node-plan.js';
import { policy } from '../../lib/planner/testing/cluster.js';
import { startCapture } from './capture.js';
import { applySnapshot, carrierOf, dataplaneSkip, eipsOf, nodeIp, podIp, upLab } from './dp-lab.js';
import { GATEWAY_NAME, labSnapshot } from './lab-cluster.js';
import { echoAt, linkPackets, macOf, nftCounters } from './probes.js';

const POLICY = policy('default', 'web', { egressGatewayName: GATEWAY_NAME, appliedTo: { podSelector: { matchLabels: { app: 'web' } } } });
const FAMILIES = [4, 6] as const;
const CTL = { host: 'control' } as const;

/** `ip` addresses and Ethernet sources of the captured packets, as `MAC IP` strings. */
function sources(lines: readonly string[]): string[] {
  return lines.flatMap((l) => {
    const m = /^\S+ ([0-9a-f:]{17}) > .*?: (\S+?)\.\d+ > /.exec(l);
    return m ? [`${m[1]} ${m[2]}`] : [];
  });
}

describe('the gateway is not an open relay', { skip: dataplaneSkip, timeout: 300_000 }, () => {
  let lab: Lab | undefined;
  let info: LabInfo;
  let plans: NodePlan[];
  let carrier: string;
  let eip: { 4: string; 6: string };
  const ext = { 4: '', 6: '' };
  const ctl = { 4: '', 6: '' };
  const snatCount = async () => (await nftCounters(lab!, carrier)).get('snat default/web') ?? 0;
  const ctlExec = (argv: string[], allowFailure = false) => lab!.exec(CTL, argv, { timeoutMs: 10_000, allowFailure });

  /** Sends one UDP datagram per source from the control host and returns what reached the echo host. */
  async function udpFromCtl(family: 4 | 6, srcs: readonly string[]): Promise<string[]> {
    const capture = await startCapture(info.echo.netns, `${family === 4 ? 'ip' : 'ip6'} and udp dst port ${info.echo.udpPort}`, { count: 20, timeoutMs: 15_000 });
    try {
      const send = srcs.map((src) => `(echo relay | timeout 3 nc -${family} -u -w 1 -s ${src} ${ext[family]} ${info.echo.udpPort}) &`);
      await ctlExec(['sh', '-c', `${send.join(' ')} wait`], true);
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await capture.stop();
    }
    return sources(await capture.lines);
  }

  before(async () => {
    lab = await upLab('security', { ipv6: true });
    await lab.addPod({ namespace: 'default', name: 'client', labels: { app: 'web' }, node: 'worker-1' });
    // A selected pod on each gateway node, so the carrier has one of its own.
    for (const gw of ['gateway-1', 'gateway-2']) await lab.addPod({ namespace: 'default', name: `on-${gw}`, labels: { app: 'web' }, node: gw });
    info = await lab.info();
    ({ plans } = await applySnapshot(lab, labSnapshot(info, { policies: [POLICY] }), { concurrent: true }));
    carrier = carrierOf(plans);
    eip = eipsOf(plans);
    Object.assign(ext, { 4: info.echo.ipv4, 6: info.echo.ipv6! });
    Object.assign(ctl, { 4: info.control.ips[0]!, 6: info.control.ips[1]! });
    // Redirects would teach the control host to bypass the node it is told to route through.
    await ctlExec([
      'sysctl',
      '-qw',
      'net.ipv4.conf.all.accept_redirects=0',
      'net.ipv4.conf.eth0.accept_redirects=0',
      'net.ipv6.conf.all.accept_redirects=0',
      'net.ipv6.conf.eth0.accept_redirects=0',
    ]);
    for (const pod of ['default/client', `default/on-${carrier}`]) {
      for (const family of FAMILIES) assert.equal((await echoAt(lab, { pod }, ext[family], 'udp')).clientIP, eip[family], `${pod} IPv${family}`);
    }
  });

  after(async () => {
    await lab?.down();
  });

  test('a LAN host routing through the gateway or a worker is forwarded with its own address, never the EIP', async () => {
    const snat = await snatCount();
    for (const via of [carrier, 'worker-1']) {
      for (const family of FAMILIES) {
        await ctlExec(['ip', `-${family}`, 'route', 'replace', ext[family], 'via', nodeIp(info, via, family)]);
        try {
          const viaMac = await macOf(lab!, { node: via });
          const capture = await startCapture(info.echo.netns, `${family === 4 ? 'ip' : 'ip6'} and tcp dst port ${info.echo.httpPort}`, { count: 1, timeoutMs: 10_000 });
          const seen = await echoAt(lab!, CTL, ext[family], 'http', 2).catch(() => undefined);
          const [first] = sources(await capture.stop());
          assert.equal(first, `${viaMac} ${ctl[family]}`, `IPv${family} via ${via}: the packet reached the echo host through ${via}, unchanged`);
          assert.equal(seen?.clientIP ?? ctl[family], ctl[family], `IPv${family} via ${via}`);
        } finally {
          await ctlExec(['ip', `-${family}`, 'route', 'del', ext[family], 'via', nodeIp(info, via, family)]);
        }
      }
    }
    assert.equal(await snatCount(), snat, 'the carrier SNATed relayed traffic');
  });

  test("a selected pod's address spoofed from the LAN is never SNATed to the EIP (to the gateway or to a worker)", async () => {
    const spoofed = { 4: [podIp(info, 'default/client'), podIp(info, `default/on-${carrier}`)], 6: [podIp(info, 'default/client', 6), podIp(info, `default/on-${carrier}`, 6)] };
    for (const family of FAMILIES) for (const ip of spoofed[family]) await ctlExec(['ip', 'addr', 'add', ip, 'dev', 'lo']);
    const snat = await snatCount();
    try {
      for (const via of [carrier, 'worker-1']) {
        for (const family of FAMILIES) {
          await ctlExec(['ip', `-${family}`, 'route', 'replace', ext[family], 'via', nodeIp(info, via, family)]);
          try {
            const viaMac = await macOf(lab!, { node: via });
            const seen = await udpFromCtl(family, spoofed[family]);
            assert.ok(!seen.some((s) => s.endsWith(` ${eip[family]}`)), `IPv${family} via ${via}: the EIP reached the echo host: ${seen.join('; ')}`);
            // They did go through that node (so the check above saw them), with a node's own address.
            assert.equal(seen.filter((s) => s.startsWith(`${viaMac} `)).length, spoofed[family].length, `IPv${family} via ${via}: ${seen.join('; ')}`);
          } finally {
            await ctlExec(['ip', `-${family}`, 'route', 'del', ext[family], 'via', nodeIp(info, via, family)]);
          }
        }
      }
      assert.equal(await snatCount(), snat, 'the carrier SNATed spoofed traffic');
    } finally {
      for (const family of FAMILIES) for (const ip of spoofed[family]) await ctlExec(['ip', 'addr', 'del', ip, 'dev', 'lo'], true);
    }
  });

  test('VXLAN from a host that is not a node is dropped before decapsulation', async () => {
    const gw = plans.find((p) => p.node === carrier)!;
    const peer = plans.find((p) => p.node === 'worker-1')!.vxlan!.peers.find((p) => p.node === carrier)!;
    const pod = podIp(info, 'default/client');
    // A tunnel of the attacker's own: same VNI and port, aimed at the carrier, carrying a packet
    // that claims to come from a selected pod and is bound for the echo host.
    const vx = 'vxatk';
    await ctlExec([
      'ip',
      'link',
      'add',
      vx,
      'type',
      'vxlan',
      'id',
      String(gw.vxlan!.vni),
      'dstport',
      String(gw.vxlan!.port),
      'remote',
      nodeIp(info, carrier),
      'local',
      ctl[4],
      'dev',
      'eth0',
      'nolearning',
    ]);
    try {
      await ctlExec(['ip', 'link', 'set', vx, 'up']);
      await ctlExec(['ip', 'addr', 'add', pod, 'dev', vx]);
      await ctlExec(['ip', 'neigh', 'add', peer.tunnelIpv4!, 'lladdr', peer.mac, 'dev', vx, 'nud', 'permanent']);
      await ctlExec(['ip', 'route', 'add', `${ext[4]}/32`, 'via', peer.tunnelIpv4!, 'dev', vx, 'onlink', 'src', pod]);
      const counter = async () => (await nftCounters(lab!, carrier)).get('vxlan from unknown host') ?? 0;
      const dropped = await counter();
      const rx = (await linkPackets(lab!, carrier, 'egress.vxlan')).rx;
      const snat = await snatCount();

      const seen = await udpFromCtl(4, [pod, pod, pod]);
      assert.ok((await counter()) >= dropped + 3, 'the "vxlan from unknown host" rule did not count the datagrams');
      assert.equal((await linkPackets(lab!, carrier, 'egress.vxlan')).rx, rx, 'the carrier decapsulated foreign VXLAN');
      assert.equal(await snatCount(), snat);
      assert.deepEqual(seen, [], 'something reached the echo host');

      // The control: once the host counts as a node, the same datagrams come out with the EIP.
      // So the guard, not a broken tunnel, is what stopped them.
      await lab!.exec({ node: carrier }, ['nft', 'add', 'element', 'inet', 'sluice', 'nodes4', `{ ${ctl[4]} }`]);
      try {
        const relayed = await udpFromCtl(4, [pod]);
        assert.ok(
          relayed.some((s) => s.endsWith(` ${eip[4]}`)),
          `control: ${relayed.join('; ')}`,
        );
      } finally {
        await lab!.exec({ node: carrier }, ['nft', 'delete', 'element', 'inet', 'sluice', 'nodes4', `{ ${ctl[4]} }`]);
      }
    } finally {
      await ctlExec(['ip', 'link', 'del', vx], true);
    }
  });

  test('new connections to the EIP are dropped; an established flow through the EIP keeps working', async () => {
    const guard = async () => (await nftCounters(lab!, carrier)).get('eip input guard') ?? 0;
    const dropped = await guard();
    // A keep-alive HTTP flow from the pod: two requests 2 s apart on one connection.
    const request = (close: boolean) => `printf 'GET / HTTP/1.1\\r\\nHost: echo\\r\\n${close ? 'Connection: close\\r\\n' : ''}\\r\\n'`;
    const flow = lab!.exec({ pod: 'default/client' }, ['sh', '-c', `(${request(false)}; sleep 2; ${request(true)}) | nc -w 5 ${ext[4]} ${info.echo.httpPort}`], {
      timeoutMs: 15_000,
    });
    await new Promise((r) => setTimeout(r, 500));
    for (const family of FAMILIES) {
      const ping = await lab!.exec({ host: 'ext' }, ['ping', '-c', '2', '-i', '0.2', '-W', '1', eip[family]], { allowFailure: true, timeoutMs: 10_000 });
      assert.notEqual(ping.exitCode, 0, `ping IPv${family} EIP answered`);
      await lab!.exec({ host: 'ext' }, ['ping', '-c', '1', '-W', '2', nodeIp(info, carrier, family)], { timeoutMs: 10_000 });
      const url = `http://${family === 6 ? `[${eip[6]}]` : eip[4]}:${info.echo.httpPort}/`;
      const curl = await lab!.exec({ host: 'ext' }, ['curl', '-sS', '-g', '--max-time', '1', url], { allowFailure: true, timeoutMs: 10_000 });
      // 28 = timed out: the SYN was dropped. Without the guard the kernel would answer with a RST (7).
      assert.equal(curl.exitCode, 28, `curl ${url}: ${curl.stderr.trim()}`);
    }
    assert.ok((await guard()) >= dropped + 4, 'the EIP input guard did not count the attempts');

    const replies = [...(await flow).stdout.matchAll(/\{"clientIP":[^}]*\}/g)].map((m) => JSON.parse(m[0]) as { clientIP: string; clientPort: number });
    assert.equal(replies.length, 2, 'both requests of the established flow were answered');
    assert.deepEqual(
      replies.map((r) => r.clientIP),
      [eip[4], eip[4]],
    );
    assert.equal(replies[0]!.clientPort, replies[1]!.clientPort, 'one connection');
  });
});
