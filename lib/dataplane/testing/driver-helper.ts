/**
 * Runs dataplane drivers inside whatever network namespace it is started in
 * (`ip netns exec NS node driver-helper.js`), since a Node process cannot switch namespaces.
 * Reads one JSON request on stdin, runs its steps in order on one set of driver instances,
 * and prints `{ results, calls }` as JSON.
 */
import { performance } from 'node:perf_hooks';
import { execa } from 'execa';
import type { EipPlan, NodePlan, RoutingPlan, SysctlEntry, VxlanPlan } from '../../planner/node-plan.js';
import { AddressDriver } from '../addresses/address-driver.js';
import type { HeldAddress } from '../addresses/address-types.js';
import { execFile } from '../iproute/exec.js';
import { Dataplane } from '../dataplane.js';
import type { NftDriverLike } from '../dataplane-types.js';
import type { EipHoldLimit } from '../eip-hold.js';
import { diffPlan } from '../diff-plan.js';
import { LinkDriver } from '../links/link-driver.js';
import { RouteDriver } from '../routes/route-driver.js';
import { ownedRangesOf } from '../routes/route-ops.js';
import type { OwnedRanges } from '../routes/route-types.js';
import { SysctlDriver } from '../sysctl/sysctl-driver.js';
import { resolveConfig } from '../../planner/config.js';
import { applyAddresses, applyLinks, applyRoutes } from './standalone-apply.js';

export type HelperStep =
  | { readonly op: 'links.observe'; readonly parent?: string }
  | { readonly op: 'links.apply'; readonly vxlan: VxlanPlan | null }
  | { readonly op: 'routes.observe'; readonly owned: OwnedRanges }
  | { readonly op: 'routes.apply'; readonly routing: RoutingPlan }
  | { readonly op: 'sysctls.apply'; readonly entries: readonly SysctlEntry[] }
  | { readonly op: 'addresses.observe' }
  | { readonly op: 'addresses.apply'; readonly eips: readonly EipPlan[] }
  | { readonly op: 'addresses.release'; readonly addresses: readonly HeldAddress[] }
  | { readonly op: 'dataplane.apply'; readonly plan: NodePlan; readonly nftFails?: boolean; readonly probeAtNft?: boolean }
  | { readonly op: 'dataplane.observe'; readonly plan?: NodePlan }
  | { readonly op: 'dataplane.diff'; readonly plan: NodePlan }
  /** A change made behind the drivers' back, between two steps of the same instances. */
  | { readonly op: 'sh'; readonly script: string };

export interface HelperRequest {
  readonly device?: string;
  readonly addressTag?: number;
  /** How the address driver writes: over rtnetlink (the default, as the agent does) or through `ip -batch`. */
  readonly addressWrites?: 'rtnetlink' | 'ip';
  readonly eipHold?: EipHoldLimit;
  readonly steps: readonly HelperStep[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function main(): Promise<void> {
  const request = JSON.parse(await readStdin()) as HelperRequest;
  const calls: { call: string; args: unknown }[] = [];
  const config = resolveConfig(request.device ? { vxlan: { device: request.device } } : {});
  const links = new LinkDriver({ device: config.vxlan.device });
  const routes = new RouteDriver();
  const sysctls = new SysctlDriver();
  const addresses = new AddressDriver({
    ...(request.addressTag !== undefined ? { tag: request.addressTag } : {}),
    ...(request.addressWrites === 'ip' ? { exec: execFile } : {}),
  });

  // The fake nft driver records which of our rules and routes, and whether the device, exist when it is called.
  let nftFails = false;
  let probePlan: NodePlan | undefined;
  const nft: NftDriverLike = {
    observe: async () => ({ fake: true }),
    apply: async (table) => {
      const seen = probePlan ? await routes.observe(ownedRangesOf(probePlan.routing)) : undefined;
      const hasDevice = probePlan ? (await links.observe()).link !== undefined : undefined;
      calls.push({
        call: 'nft.apply',
        args: { table: table.name, ...(seen ? { rules: seen.rules.map((r) => r.selector), routes: seen.routes.map((r) => r.selector), device: hasDevice } : {}) },
      });
      if (nftFails) throw new Error('fake nft refused the ruleset');
      return { writes: 0 };
    },
  };
  const announcer = {
    announce: (ip: string, ifname: string) => calls.push({ call: 'announce', args: { ip, ifname } }),
    withdraw: (ip: string, ifname?: string) => calls.push({ call: 'withdraw', args: { ip, ifname } }),
  };
  const dataplane = new Dataplane({
    config,
    nft,
    announcer,
    ...(request.addressTag !== undefined ? { addressTag: request.addressTag } : {}),
    ...(request.eipHold ? { eipHold: request.eipHold } : {}),
  });

  const results: unknown[] = [];
  for (const step of request.steps) {
    const started = performance.now();
    let result: unknown;
    switch (step.op) {
      case 'links.observe':
        result = await links.observe(step.parent);
        break;
      case 'links.apply':
        result = await applyLinks(links, step.vxlan ?? undefined);
        break;
      case 'routes.observe':
        result = await routes.observe(step.owned);
        break;
      case 'routes.apply':
        result = await applyRoutes(routes, step.routing);
        break;
      case 'sysctls.apply':
        result = await sysctls.apply(step.entries);
        break;
      case 'addresses.observe':
        result = await addresses.observe();
        break;
      case 'addresses.apply':
        result = await applyAddresses(addresses, step.eips);
        break;
      case 'addresses.release':
        result = await addresses.release(step.addresses);
        break;
      case 'dataplane.apply':
        nftFails = step.nftFails ?? false;
        probePlan = step.probeAtNft ? step.plan : undefined;
        result = await dataplane.apply(step.plan);
        break;
      case 'dataplane.observe':
        result = await dataplane.observe(step.plan);
        break;
      case 'dataplane.diff':
        result = diffPlan(step.plan, await dataplane.observe(step.plan));
        break;
      case 'sh':
        result = { exitCode: (await execa('sh', ['-ec', step.script], { reject: false, stdio: ['ignore', 'ignore', 'inherit'] })).exitCode };
        break;
    }
    results.push(typeof result === 'object' && result !== null && !Array.isArray(result) ? { ...result, elapsedMs: performance.now() - started } : result);
  }
  process.stdout.write(JSON.stringify({ results, calls }));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
