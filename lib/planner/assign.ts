import type { Gateway, NodeInfo, Policy } from '../api/model.js';
import type { ProblemReason } from '../api/problems.js';
import { selectorMatches } from '../api/labels.js';
import { addressesOf, intervalsContain, type Family, type IpInterval } from '../api/ip.js';
import { rendezvousPick } from './hrw.js';
import { compareForAllocation } from './order.js';

/** Where a policy's traffic leaves: shared by the controller (which writes it) and the planner. */
export interface Assignment {
  readonly policyKey: string;
  readonly gatewayName: string;
  readonly eipV4?: string;
  readonly eipV6?: string;
  readonly useNodeIP: boolean;
  readonly node?: string;
  readonly active: boolean;
  readonly reason?: ProblemReason;
  readonly message?: string;
}

export interface AssignInput {
  readonly policies: readonly Policy[];
  readonly gateways: readonly Gateway[];
  readonly nodes: readonly NodeInfo[];
}

/** Nodes a gateway may use now: selected by its nodeSelector, Ready and not unreachable. */
export function eligibleGatewayNodes(gateway: Gateway, nodes: readonly NodeInfo[]): string[] {
  return nodes
    .filter((n) => selectorMatches(gateway.nodeSelector, n.labels) && n.ready && !n.unreachable)
    .map((n) => n.name)
    .sort();
}

/** The first address of a pool is its default EIP when the gateway names none. */
export function defaultEip(gateway: Gateway, family: Family): string | undefined {
  const named = family === 4 ? gateway.defaultEipV4 : gateway.defaultEipV6;
  if (named) return named;
  const pool = family === 4 ? gateway.poolV4 : gateway.poolV6;
  const first = pool[0];
  return first ? addressesOf(first, 1).next().value ?? undefined : undefined;
}

const MAX_RR_SCAN = 65536;

interface Claim {
  gateway: string;
  policy: string;
}

class EipLedger {
  private readonly claims = new Map<string, Claim[]>();
  ownerGateway(ip: string): string | undefined {
    return this.claims.get(ip)?.[0]?.gateway;
  }
  usedByOthers(ip: string, policy: string): boolean {
    return (this.claims.get(ip) ?? []).some((c) => c.policy !== policy);
  }
  claim(ip: string, gateway: string, policy: string): void {
    const list = this.claims.get(ip) ?? [];
    list.push({ gateway, policy });
    this.claims.set(ip, list);
  }
}

interface Draft {
  policy: Policy;
  gateway?: Gateway;
  eip: Partial<Record<Family, string>>;
  reason?: ProblemReason;
  message?: string;
}

function poolOf(gateway: Gateway, family: Family): readonly IpInterval[] {
  return family === 4 ? gateway.poolV4 : gateway.poolV6;
}

function explicitOf(policy: Policy, family: Family): string | undefined {
  return family === 4 ? policy.spec.ipv4 : policy.spec.ipv6;
}

function statusOf(policy: Policy, family: Family): string | undefined {
  return family === 4 ? policy.status.eipV4 : policy.status.eipV6;
}

function fail(draft: Draft, reason: ProblemReason, message: string): void {
  if (!draft.reason) {
    draft.reason = reason;
    draft.message = message;
  }
}

/** Explicit and default EIPs: fixed by the spec, checked against the pool and other gateways. */
function claimFixed(draft: Draft, family: Family, ledger: EipLedger): void {
  const gateway = draft.gateway!;
  const explicit = explicitOf(draft.policy, family);
  const pool = poolOf(gateway, family);
  let ip: string | undefined;
  if (explicit) {
    if (!intervalsContain(pool, explicit)) {
      return fail(draft, 'IPNotInPool', `spec.egressIP.ipv${family}: ${explicit} is not inside any pool of gateway "${gateway.name}"`);
    }
    ip = explicit;
  } else if (draft.policy.spec.allocatorPolicy === 'default') {
    ip = defaultEip(gateway, family);
  }
  if (!ip) return;
  const owner = ledger.ownerGateway(ip);
  if (owner !== undefined && owner !== gateway.name) {
    return fail(draft, 'EIPInUse', `${ip} is already the egress IP of gateway "${owner}"`);
  }
  ledger.claim(ip, gateway.name, draft.policy.key);
  draft.eip[family] = ip;
}

function isFreeFor(ip: string, draft: Draft, ledger: EipLedger): boolean {
  const owner = ledger.ownerGateway(ip);
  return (owner === undefined || owner === draft.gateway!.name) && !ledger.usedByOthers(ip, draft.policy.key);
}

/** Round-robin: keep the address status already names when still valid, else the first free one. */
function claimRoundRobin(draft: Draft, family: Family, ledger: EipLedger, keepOnly: boolean): void {
  const gateway = draft.gateway!;
  const pool = poolOf(gateway, family);
  const reserved = defaultEip(gateway, family);
  const previous = statusOf(draft.policy, family);
  if (previous && previous !== reserved && intervalsContain(pool, previous) && isFreeFor(previous, draft, ledger)) {
    ledger.claim(previous, gateway.name, draft.policy.key);
    draft.eip[family] = previous;
    return;
  }
  if (keepOnly) return;
  for (const iv of pool) {
    for (const ip of addressesOf(iv, MAX_RR_SCAN)) {
      if (ip !== reserved && isFreeFor(ip, draft, ledger)) {
        ledger.claim(ip, gateway.name, draft.policy.key);
        draft.eip[family] = ip;
        return;
      }
    }
  }
  fail(draft, 'PoolExhausted', `no free IPv${family} address left in the pool of gateway "${gateway.name}" for round-robin allocation`);
}

function needsAddress(draft: Draft): boolean {
  return !!draft.gateway && !draft.reason && !draft.policy.spec.useNodeIP;
}

/**
 * Allocates EIPs and picks the gateway node of every policy. Pure and deterministic: the
 * controller writes the result to status, and every agent can compute it on its own.
 */
export function assignPolicies(input: AssignInput): Map<string, Assignment> {
  const gateways = new Map(input.gateways.map((g) => [g.name, g]));
  const drafts: Draft[] = [...input.policies].sort(compareForAllocation).map((policy) => {
    const draft: Draft = { policy, eip: {} };
    const gateway = gateways.get(policy.spec.gatewayName);
    if (gateway) draft.gateway = gateway;
    else fail(draft, 'GatewayNotFound', `EgressGateway "${policy.spec.gatewayName}" does not exist`);
    return draft;
  });
  const ledger = new EipLedger();
  const families: Family[] = [4, 6];
  for (const draft of drafts.filter(needsAddress)) {
    for (const family of families) claimFixed(draft, family, ledger);
  }
  const roundRobin = () => drafts.filter((d) => needsAddress(d) && d.policy.spec.allocatorPolicy === 'rr');
  for (const keepOnly of [true, false]) {
    for (const draft of roundRobin()) {
      for (const family of families) {
        if (!explicitOf(draft.policy, family) && !draft.eip[family] && poolOf(draft.gateway!, family).length > 0) {
          claimRoundRobin(draft, family, ledger, keepOnly);
        }
      }
    }
  }
  const result = new Map<string, Assignment>();
  for (const draft of drafts) {
    const { policy, gateway } = draft;
    if (needsAddress(draft) && !draft.eip[4] && !draft.eip[6]) {
      fail(draft, 'PoolExhausted', `gateway "${gateway!.name}" has no IPv4 or IPv6 pool to take an egress IP from (or set spec.egressIP.useNodeIP)`);
    }
    let node: string | undefined;
    if (gateway && !draft.reason) {
      const candidates = eligibleGatewayNodes(gateway, input.nodes);
      node = rendezvousPick(draft.eip[4] ?? draft.eip[6] ?? policy.key, candidates);
      if (!node) fail(draft, 'NoReadyGatewayNode', `no Ready node matches the nodeSelector of gateway "${gateway.name}"`);
    }
    result.set(policy.key, {
      policyKey: policy.key,
      gatewayName: policy.spec.gatewayName,
      ...(draft.eip[4] ? { eipV4: draft.eip[4] } : {}),
      ...(draft.eip[6] ? { eipV6: draft.eip[6] } : {}),
      useNodeIP: policy.spec.useNodeIP,
      ...(node && !draft.reason ? { node } : {}),
      active: !draft.reason,
      ...(draft.reason ? { reason: draft.reason, message: draft.message! } : {}),
    });
  }
  return result;
}
