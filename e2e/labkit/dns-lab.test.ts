/**
 * The lab's DNS and HTTPS as a pod uses them (root only): the cluster DNS pod, the external
 * authoritative server behind it, names the pod resolves and fetches over HTTPS with SNI, answers
 * changed on the fly, and nothing of it outside the lab's namespaces.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { readFile, readlink, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { API_VERSION } from '../../lib/api/group.js';
import { apiPaths } from './cluster/api-paths.js';
import type { PodObject } from './cluster/kube-types.js';
import { labApi } from './cluster/lab-api.js';
import { KUBE_DNS_ROLE, UPSTREAM_DNS_ROLE } from './dns/lab-dns.js';
import { NETNS_ETC, netnsEtcDirs } from './dns/resolv-conf.js';
import type { EchoReply } from './echo-reply.js';
import type { LabInfo } from './info.js';
import { Lab } from './lab.js';
import { labPrefix } from './names.js';
import { assertNoNetns, eventually, needsRoot, tempLabBase } from './test-support.js';

const LAB_CLI = fileURLToPath(new URL('./cli.js', import.meta.url));
const EIP = '198.18.0.150';
const sha = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

async function curl(lab: Lab, pod: string, url: string, opts: { caFile: string; family?: 4 | 6; env?: Record<string, string> }): Promise<EchoReply> {
  const argv = ['curl', '-sS', '--max-time', '5', `-${opts.family ?? 4}`, '--cacert', opts.caFile, url];
  const r = await lab.exec({ pod }, argv, { timeoutMs: 15_000, ...(opts.env ? { env: opts.env } : {}) });
  return JSON.parse(r.stdout) as EchoReply;
}

/** The lines of a daemon's log (JSON objects) that match. */
async function logged(info: LabInfo, role: string, match: (q: Record<string, unknown>) => boolean): Promise<Array<Record<string, unknown>>> {
  const d = info.daemons.find((x) => x.role === role)!;
  const lines = (await readFile(d.log, 'utf8')).split('\n').filter((l) => l.startsWith('{'));
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter(match);
}

/** Captures DNS in the root namespace (read-only) while fn runs; returns what it saw of `needle`, and whether it saw the control packet. */
async function rootNamespaceSees(needle: string, fn: () => Promise<void>): Promise<{ leaks: string[]; sawControl: boolean }> {
  const controlPort = 40_000 + Math.floor(Math.random() * 20_000);
  const control = `control-${randomBytes(4).toString('hex')}`;
  const dump = spawn('tcpdump', ['-p', '-i', 'any', '-n', '-l', '-A', '-s', '512', `port 53 or udp port ${controlPort}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  dump.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
  let err = '';
  await new Promise<void>((resolve, reject) => {
    dump.stderr.on('data', (d: Buffer) => ((err += d.toString()), err.includes('listening on') && resolve()));
    dump.once('exit', () => reject(new Error(`tcpdump: ${err}`)));
  });
  try {
    await fn();
    // A datagram to a closed port on the root namespace's loopback: proof that the capture works.
    const sock = createSocket('udp4');
    await new Promise<void>((resolve) => sock.send(control, controlPort, '127.0.0.1', () => resolve()));
    sock.close();
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    dump.kill();
  }
  return { leaks: out.split('\n').filter((l) => l.includes(needle)), sawControl: out.includes(control) };
}

/** The inode of a network namespace: of a process, or of a named lab namespace. */
const netnsOfPid = async (pid: number) => readlink(`/proc/${pid}/ns/net`);
const netnsInode = async (name: string) => `net:[${(await stat(`/run/netns/${name}`)).ino}]`;

describe('lab DNS and HTTPS', { skip: needsRoot, concurrency: true }, () => {
  test('a pod resolves through the cluster DNS and fetches https://github.com/ from the echo; answers change on the fly', { timeout: 300_000 }, async (t) => {
    const lap = (() => {
      let last = Date.now();
      return (what: string) => {
        t.diagnostic(`${what}: ${Date.now() - last} ms`);
        last = Date.now();
      };
    })();
    const baseDir = await tempLabBase();
    const name = `labdns-${process.pid}`;
    const rootResolvConf = await sha('/etc/resolv.conf');
    let lab: Lab | undefined;
    try {
      lab = await Lab.up(name, { workers: 2, gateways: 1, ipv6: true, kubeDns: { node: 'worker-2' }, baseDir });
      lap('up with the cluster DNS');
      const info = await lab.info();
      const ca = info.echo.caFile!;
      const echo4 = info.echo.addresses.filter((a) => !a.includes(':'));
      const echo6 = info.echo.addresses.filter((a) => a.includes(':'));
      assert.equal(echo4.length, 8);
      assert.equal(echo6.length, 8);
      assert.equal(info.echo.httpsPort, 443);

      // The cluster DNS is a Pod object with the label NetworkPolicies select, Running at the resolver address.
      const kubeDns = info.dns.kubeDns!;
      assert.deepEqual([kubeDns.namespace, kubeDns.name, kubeDns.node], ['kube-system', 'coredns', 'worker-2']);
      const obj = await labApi(await lab.state()).get<PodObject>(apiPaths.pod('kube-system', 'coredns'));
      assert.equal(obj?.metadata.labels?.['k8s-app'], 'kube-dns');
      assert.equal(obj?.status?.phase, 'Running');
      assert.deepEqual([info.dns.ipv4, info.dns.ipv6], kubeDns.ips);

      const pod = await lab.addPod({ namespace: 'apps', name: 'a', labels: { app: 'a' }, node: 'worker-1' });
      const worker1 = info.nodes.find((n) => n.name === 'worker-1')!;
      const worker2 = info.nodes.find((n) => n.name === 'worker-2')!;
      const resolvConf = await lab.exec({ pod: 'apps/a' }, ['cat', '/etc/resolv.conf']);
      assert.match(resolvConf.stdout, new RegExp(`^nameserver ${info.dns.ipv4}$`, 'm'));
      assert.match(resolvConf.stdout, /^search apps\.svc\.cluster\.local svc\.cluster\.local cluster\.local$/m);

      lap('pod');
      // By default the seed's three names are on three different echo addresses.
      const first: Record<string, string> = {};
      for (const n of ['github.com', 'httpbin.org', 'google.com']) {
        const r = await lab.dnsQuery({ pod: 'apps/a' }, n);
        assert.equal(r.server, info.dns.ipv4);
        assert.equal(r.answers.length, 1);
        first[n] = r.answers[0]!.data;
        assert.ok(echo4.includes(first[n]!), `${n} → ${first[n]} is an echo address`);
      }
      assert.equal(new Set(Object.values(first)).size, 3);

      // HTTPS by name through the pod's resolver: SNI sent, the lab CA verified, the pod's node seen (the CNI masquerades).
      const web = await curl(lab, 'apps/a', 'https://github.com/', { caFile: ca });
      assert.deepEqual([web.proto, web.sni, web.serverIP, web.clientIP], ['https', 'github.com', first['github.com'], worker1.ips[0]]);
      const web6 = await curl(lab, 'apps/a', 'https://github.com/', { caFile: ca, family: 6 });
      assert.deepEqual([web6.serverIP, web6.clientIP], [echo6[0], worker1.ips[1]]);
      const plain = await curl(lab, 'apps/a', 'http://www.google.com/', { caFile: ca });
      assert.deepEqual([plain.proto, plain.serverIP], ['http', first['google.com']], 'a CNAME, and HTTP on port 80');
      // The lookups went pod → cluster DNS (search path first) → external server, which saw the DNS pod's node.
      const viaKubeDns = await logged(info, KUBE_DNS_ROLE, (q) => q['name'] === 'github.com' && q['from'] === pod.ips[0]);
      assert.ok(viaKubeDns.length > 0, 'the cluster DNS served the pod');
      const searched = await logged(info, KUBE_DNS_ROLE, (q) => q['name'] === 'github.com.apps.svc.cluster.local');
      assert.equal(searched[0]?.['rcode'], 'NXDOMAIN', 'ndots:5 tries the cluster names first, answered by the cluster DNS');
      const upstream = await logged(info, UPSTREAM_DNS_ROLE, (q) => q['name'] === 'github.com');
      assert.ok(
        upstream.some((q) => q['from'] === worker2.ips[0]),
        "the external server saw the DNS pod's node",
      );
      assert.ok(!upstream.some((q) => q['from'] === pod.ips[0] || q['from'] === worker1.ips[0]), 'the pod never asked it directly');

      lap('resolve and fetch');
      // DNS over TCP, from our client and from glibc (use-vc), forwarded over TCP.
      const tcp = await lab.dnsQuery({ pod: 'apps/a' }, 'httpbin.org', { tcp: true });
      assert.deepEqual(
        tcp.answers.map((a) => a.data),
        [first['httpbin.org']],
      );
      await lab.exec({ pod: 'apps/a' }, ['getent', 'ahostsv4', 'google.com'], { env: { RES_OPTIONS: 'use-vc' } });
      const overTcp = await eventually(async () => {
        const seen = await logged(info, UPSTREAM_DNS_ROLE, (q) => q['name'] === 'google.com' && q['transport'] === 'tcp');
        assert.ok(seen.length > 0);
        return seen;
      }, 3_000);
      assert.ok(overTcp.length > 0);

      // Rotation with a 1 s TTL, set through the CLI as scripts do.
      const env = { SLUICE_LAB_DIR: baseDir };
      const set = await execa(process.execPath, [LAB_CLI, 'dns', name, 'set', 'cdn.example.com', echo4.slice(4).join(','), '--ttl', '1', '--rotate'], { env, reject: false });
      assert.equal(set.exitCode, 0, set.stderr);
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await lab.dnsQuery({ pod: 'apps/a' }, 'cdn.example.com'));
      assert.deepEqual(
        answers.map((a) => a.answers.length),
        [4, 4, 4],
      );
      assert.ok(answers.every((a) => a.answers.every((x) => x.ttl === 1)));
      assert.equal(new Set(answers.map((a) => a.answers[0]!.data)).size, 3, 'each answer leads with another address');

      // set and del take effect at once, for the next lookup.
      await lab.setDns('github.com', { addresses: [echo4[5]!, echo6[5]!], ttl: 2 });
      assert.equal((await curl(lab, 'apps/a', 'https://github.com/', { caFile: ca })).serverIP, echo4[5]);
      const del = await execa(process.execPath, [LAB_CLI, 'dns', name, 'del', 'github.com'], { env, reject: false });
      assert.equal(del.exitCode, 0, del.stderr);
      // www.github.com (a CNAME) stays below it: the name exists with no data, so the answer is empty.
      assert.deepEqual((await lab.dnsQuery({ pod: 'apps/a' }, 'github.com')).answers, []);
      const gone = await lab.exec({ pod: 'apps/a' }, ['curl', '-sS', '--max-time', '5', '--cacert', ca, 'https://github.com/'], { allowFailure: true });
      assert.match(gone.stderr, /resolve/i, 'curl cannot resolve a deleted name');
      await lab.deleteDns('cdn.example.com');
      assert.equal((await lab.dnsQuery({ pod: 'apps/a' }, 'cdn.example.com')).rcode, 'NXDOMAIN');
      const bad = await execa(process.execPath, [LAB_CLI, 'dns', name, 'set', 'github.com', '10.0.0.300'], { env, reject: false });
      assert.notEqual(bad.exitCode, 0);
      assert.match(bad.stderr, /not an IPv4 or IPv6 address/);
      await lab.setDns('github.com', { addresses: [echo4[0]!, echo6[0]!] });

      lap('TCP, rotation, set and del');
      // A pod that an EgressPolicy selects: the echo sees the EIP, over HTTPS by name too.
      if ((await lab.info()).daemons.some((d) => d.role === 'agent:gateway-1')) {
        const api = labApi(await lab.state());
        await api.patch(apiPaths.node('gateway-1'), { metadata: { labels: { egress: 'true' } } });
        await api.create(`/apis/${API_VERSION}/egressgateways`, {
          apiVersion: API_VERSION,
          kind: 'EgressGateway',
          metadata: { name: 'default' },
          spec: { nodeSelector: { selector: { matchLabels: { egress: 'true' } } }, ippools: { ipv4: [EIP], ipv4DefaultEIP: EIP } },
        });
        await api.create(`/apis/${API_VERSION}/namespaces/apps/egresspolicies`, {
          apiVersion: API_VERSION,
          kind: 'EgressPolicy',
          metadata: { name: 'a', namespace: 'apps' },
          spec: { egressGatewayName: 'default', appliedTo: { podSelector: { matchLabels: { app: 'a' } } } },
        });
        const viaEip = await eventually(
          async () => {
            const r = await curl(lab!, 'apps/a', 'https://github.com/', { caFile: ca });
            assert.equal(r.clientIP, EIP);
            return r;
          },
          60_000,
          500,
        );
        assert.equal(viaEip.sni, 'github.com');
      } else {
        t.diagnostic('no sluice agents in this build: the EIP check is skipped');
      }

      lap('EIP');
      // Nothing of it outside the lab: no query in the root namespace, servers in lab namespaces, root resolv.conf untouched.
      const needle = `leak-${randomBytes(4).toString('hex')}`;
      const seen = await rootNamespaceSees(needle, async () => {
        await lab!.setDns(`${needle}.example.com`, { addresses: [echo4[1]!] });
        await lab!.exec({ pod: 'apps/a' }, ['getent', 'ahosts', `${needle}.example.com`]);
        await lab!.exec({ node: 'gateway-1' }, ['getent', 'ahosts', `${needle}.example.com`]);
        await lab!.dnsQuery({ pod: 'apps/a' }, `${needle}.example.com`, { tcp: true });
        await lab!.exec({ pod: 'apps/a' }, ['getent', 'ahosts', `${needle}.unknown.invalid`], { allowFailure: true });
      });
      assert.ok(seen.sawControl, 'the root namespace capture works');
      assert.deepEqual(seen.leaks, [], 'no lab query in the root namespace');
      const now = await lab.info();
      for (const role of [UPSTREAM_DNS_ROLE, KUBE_DNS_ROLE]) {
        const d = now.daemons.find((x) => x.role === role)!;
        assert.ok(d.running, `${role} runs`);
        assert.equal(await netnsOfPid(d.pid!), await netnsInode(d.netns), `${role} lives in its lab namespace`);
        assert.notEqual(await netnsOfPid(d.pid!), await netnsOfPid(process.pid), `${role} is not in the root namespace`);
      }
      assert.equal(await sha('/etc/resolv.conf'), rootResolvConf, "the root namespace's resolv.conf is untouched");

      // A pod's resolv.conf goes with the pod.
      await lab.deletePod('apps/a');
      assert.ok(!(await netnsEtcDirs(labPrefix(name))).includes(pod.netns), `${NETNS_ETC}/${pod.netns} outlived its pod`);
    } finally {
      if (lab) await lab.down();
      else await Lab.down(name, { baseDir });
    }
    await assertNoNetns(labPrefix(name));
    assert.deepEqual(await netnsEtcDirs(labPrefix(name)), [], `${NETNS_ETC} entries left behind`);
    assert.equal(await sha('/etc/resolv.conf'), rootResolvConf);
  });

  test('a lab whose cluster DNS cannot start is taken down whole', { timeout: 60_000 }, async () => {
    const baseDir = await tempLabBase();
    const name = `labdnsfail-${process.pid}`;
    try {
      await assert.rejects(Lab.up(name, { workers: 1, gateways: 0, plugins: [], kubeDns: { node: 'no-such-node' }, baseDir }), /no node no-such-node/);
      await assertNoNetns(labPrefix(name));
      assert.deepEqual(await netnsEtcDirs(labPrefix(name)), [], `${NETNS_ETC} entries left behind`);
      const left = await execa('pgrep', ['-f', join(baseDir, name)], { reject: false });
      assert.equal(left.stdout.trim(), '', 'no process of the lab is left');
    } finally {
      // A failed up keeps its logs for whoever debugs it; this failure was the point.
      await rm(join(baseDir, name), { recursive: true, force: true });
    }
  });
});
