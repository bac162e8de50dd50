import type { Firewall } from '../api/model.js';
import { problemText, type Problem } from '../api/problems.js';
import { isRecord } from '../api/fields.js';
import { mergeConditions, readConditions, type DesiredCondition } from '../kube/conditions.js';
import type { JsonObject } from '../kube/rest-client.js';
import { forEachItem, PassReport, type ControllerContext } from './context.js';

type FirewallKindName = Firewall['kind'];

export interface DesiredFirewallStatus {
  readonly rules?: number;
  readonly conditions: readonly DesiredCondition[];
}

/**
 * Status of a firewall the parser accepted: Ready says what it enforces and what only learned
 * addresses match. It depends on the spec alone, so pod churn writes no status.
 */
export function desiredFirewallStatus(firewall: Firewall): DesiredFirewallStatus {
  const generation = firewall.generation;
  const names = firewall.spec.rules.filter((r) => r.dnsName !== undefined).length;
  const unlearned = names ? `; ${names} dnsName rule${names === 1 ? '' : 's'} match only addresses learned from the pods' DNS answers` : '';
  return {
    rules: firewall.spec.rules.length,
    conditions: [
      { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'spec is valid', observedGeneration: generation },
      {
        type: 'Ready',
        status: 'True',
        reason: 'Ready',
        message: `${firewall.spec.rules.length} rules, default ${firewall.spec.defaultAction}, on the nodes of the selected pods${unlearned}`,
        observedGeneration: generation,
      },
    ],
  };
}

/** Status of a firewall the parser rejected: it is not enforced anywhere (its pods are not restricted by it). */
export function rejectedFirewallStatus(problems: readonly Problem[], generation: number): DesiredFirewallStatus {
  return {
    conditions: [
      { type: 'Accepted', status: 'False', reason: 'Invalid', message: problems.map(problemText).join('; '), observedGeneration: generation },
      { type: 'Ready', status: 'False', reason: 'Invalid', message: 'the spec is invalid (see Accepted); nothing of it is enforced', observedGeneration: generation },
    ],
  };
}

function generationOf(raw: JsonObject | undefined): number {
  const meta = raw && isRecord(raw.metadata) ? raw.metadata : {};
  return typeof meta.generation === 'number' ? meta.generation : 0;
}

/** Writes status.rules and the Accepted/Ready conditions of every EgressFirewall and EgressClusterFirewall. */
export async function reconcileFirewallStatus(ctx: ControllerContext): Promise<PassReport> {
  const report = new PassReport();
  const { store } = ctx;
  const targets: { kind: FirewallKindName; key: string; desired: DesiredFirewallStatus }[] = [];
  for (const kind of ['EgressFirewall', 'EgressClusterFirewall'] as const) {
    for (const stored of store.list(kind)) {
      const fw = stored.value;
      targets.push({ kind, key: stored.key, desired: fw ? desiredFirewallStatus(fw) : rejectedFirewallStatus(stored.problems, generationOf(stored.raw)) });
    }
  }
  await forEachItem(
    ctx,
    report,
    'firewall-status',
    targets,
    (t) => `${t.kind} ${t.key}`,
    async (t) => {
      report.count(
        await ctx.writer.writeStatus(
          t.kind,
          t.key,
          (current) => ({
            ...(t.desired.rules !== undefined ? { rules: t.desired.rules } : {}),
            conditions: mergeConditions(readConditions(current.status), t.desired.conditions, ctx.now),
          }),
          ctx.signal,
        ),
      );
    },
  );
  return report;
}
