/**
 * A minimal hand-written egress path, built in the same lab as the product so the
 * product can be compared with the best this datapath shape can do: a VXLAN with static peers,
 * one fwmark rule and one table per node, one nft mark rule, one SNAT rule, no sets, no clamp.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Lab } from '../../e2e/labkit/lab.js';

const DEVICE = 'bench.vxlan';
const NFT_TABLE = 'bench_minimal';
/** Outside sluice's tables (3000-3254) and rule priorities (9000-9002). */
const TABLE = '100';
const PRIORITY = '100';
const TO_GATEWAY = '0x100';
const REPLY = '0xff00';
const MASK = '0xff00';
const STEP_TIMEOUT_MS = 10_000;

export interface MinimalPathSpec {
  readonly worker: { readonly name: string; readonly lanIp: string; readonly tunnelIp: string; readonly podCidr: string };
  readonly gateway: { readonly name: string; readonly lanIp: string; readonly tunnelIp: string };
  readonly pod: { readonly ip: string; readonly hostVeth: string };
  readonly external: string;
  readonly eip: string;
  readonly tunnelPrefix: number;
  readonly vni: number;
  readonly port: number;
}

const WORKER_MAC = '02:5c:be:00:00:01';
const GATEWAY_MAC = '02:5c:be:00:00:02';

function tunnelCommands(self: { lanIp: string; tunnelIp: string; mac: string }, peer: { lanIp: string; tunnelIp: string; mac: string }, spec: MinimalPathSpec): string[][] {
  return [
    ['ip', 'link', 'add', DEVICE, 'address', self.mac, 'type', 'vxlan', 'id', String(spec.vni), 'dstport', String(spec.port), 'local', self.lanIp, 'dev', 'eth0', 'nolearning'],
    ['ip', 'addr', 'add', `${self.tunnelIp}/${spec.tunnelPrefix}`, 'dev', DEVICE],
    ['ip', 'link', 'set', DEVICE, 'up'],
    ['bridge', 'fdb', 'append', peer.mac, 'dev', DEVICE, 'dst', peer.lanIp],
    ['ip', 'neigh', 'replace', peer.tunnelIp, 'lladdr', peer.mac, 'dev', DEVICE, 'nud', 'permanent'],
    // Replies arrive on the tunnel from addresses the main table reaches through eth0.
    ['sysctl', '-qw', `net.ipv4.conf.${DEVICE.replace('.', '/')}.rp_filter=2`],
    ['sysctl', '-qw', 'net.ipv4.ip_forward=1'],
  ];
}

async function runAll(lab: Lab, node: string, commands: readonly string[][]): Promise<void> {
  for (const argv of commands) await lab.exec({ node }, argv, { timeoutMs: STEP_TIMEOUT_MS });
}

export async function buildMinimalPath(lab: Lab, spec: MinimalPathSpec, dir: string): Promise<void> {
  const worker = { ...spec.worker, mac: WORKER_MAC };
  const gateway = { ...spec.gateway, mac: GATEWAY_MAC };
  const workerNft = join(dir, 'minimal-worker.nft');
  const gatewayNft = join(dir, 'minimal-gateway.nft');
  await writeFile(
    workerNft,
    [
      `table ip ${NFT_TABLE} {`,
      '  chain bench_mark {',
      '    type filter hook prerouting priority mangle;',
      `    ip saddr ${spec.pod.ip} ip daddr ${spec.external} meta mark set ${TO_GATEWAY}`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  // The conntrack mark is written once, by the NAT chain that only sees a flow's first packet.
  await writeFile(
    gatewayNft,
    [
      `table ip ${NFT_TABLE} {`,
      '  chain bench_mark {',
      '    type filter hook prerouting priority mangle;',
      `    ct direction reply ct mark ${REPLY} meta mark set ${REPLY}`,
      '  }',
      '  chain bench_snat {',
      '    type nat hook postrouting priority srcnat - 10;',
      `    iifname "${DEVICE}" ip saddr ${spec.pod.ip} ct mark set ${REPLY} snat ip to ${spec.eip}`,
      '  }',
      '}',
      '',
    ].join('\n'),
  );
  await runAll(lab, gateway.name, [
    ...tunnelCommands(gateway, worker, spec),
    ['ip', 'addr', 'add', `${spec.eip}/32`, 'dev', 'eth0'],
    ['ip', 'route', 'add', spec.worker.podCidr, 'via', worker.tunnelIp, 'dev', DEVICE, 'onlink', 'table', TABLE],
    ['ip', 'rule', 'add', 'pref', PRIORITY, 'fwmark', `${REPLY}/${MASK}`, 'lookup', TABLE],
    ['nft', '-f', gatewayNft],
  ]);
  // `iif` keeps the tunnel's own outer packets, which inherit the mark, out of the table without
  // the second (`iif lo` → main) rule the product needs for pods it does not know by interface.
  await runAll(lab, worker.name, [
    ...tunnelCommands(worker, gateway, spec),
    ['ip', 'route', 'add', 'default', 'via', gateway.tunnelIp, 'dev', DEVICE, 'onlink', 'table', TABLE],
    ['ip', 'rule', 'add', 'pref', PRIORITY, 'iif', spec.pod.hostVeth, 'fwmark', `${TO_GATEWAY}/${MASK}`, 'lookup', TABLE],
    ['nft', '-f', workerNft],
  ]);
}

/** Idempotent: removes whatever part of the minimal path exists. */
export async function removeMinimalPath(lab: Lab, spec: MinimalPathSpec): Promise<void> {
  const common = [
    ['nft', 'delete', 'table', 'ip', NFT_TABLE],
    ['ip', 'rule', 'del', 'pref', PRIORITY],
    ['ip', 'route', 'flush', 'table', TABLE],
    ['ip', 'link', 'delete', 'dev', DEVICE],
  ];
  const gatewayOnly = [['ip', 'addr', 'del', `${spec.eip}/32`, 'dev', 'eth0']];
  for (const [node, commands] of [
    [spec.worker.name, common],
    [spec.gateway.name, [...common, ...gatewayOnly]],
  ] as const) {
    for (const argv of commands) await lab.exec({ node }, argv, { timeoutMs: STEP_TIMEOUT_MS, allowFailure: true });
  }
}
