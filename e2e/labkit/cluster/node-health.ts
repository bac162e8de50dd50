/**
 * The node lifecycle controller's judgement, pure: a node whose Lease has not moved for longer than the
 * grace period is unreachable (Ready=Unknown, unreachable taints); once its Lease moves again it is Ready.
 *
 * Like kube-controller-manager, staleness is measured from when this controller *saw* the renewTime
 * change (its own clock), never by comparing renewTime with now. After losing sight of the API server the
 * controller restarts every node's grace period: nodes that could not heartbeat to a dead API server were
 * not unreachable, and judging them on stale data would taint the whole cluster at once.
 */
import { NOT_READY_TAINT_KEY, UNREACHABLE_TAINT_KEY, conditionOf, type Condition, type LeaseObject, type NodeObject, type Taint } from './kube-types.js';

export type NodeVerdict = 'ready' | 'unreachable';

export interface NodeMarking {
  conditions: Condition[];
  taints: Taint[];
}

/** What the kubelet reports for a healthy node (and what the lab registers it with). */
export const HEALTHY_CONDITIONS: ReadonlyArray<Omit<Condition, 'lastHeartbeatTime' | 'lastTransitionTime'>> = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

export class NodeHealthTracker {
  private readonly seen = new Map<string, { renewTime: string | null; observedAt: number }>();
  private blind = false;

  constructor(private readonly graceMs: number) {}

  /** Call when a poll of the API server failed. */
  lostSight(): void {
    this.blind = true;
  }

  /** The nodes whose marking must change now, with the verdict. */
  observe(nodes: readonly NodeObject[], leases: readonly LeaseObject[], now: number): Array<{ node: NodeObject; verdict: NodeVerdict }> {
    if (this.blind) {
      for (const h of this.seen.values()) h.observedAt = now;
      this.blind = false;
    }
    const renewals = new Map(leases.map((l) => [l.metadata.name, l.spec?.renewTime ?? null]));
    for (const name of this.seen.keys()) if (!nodes.some((n) => n.metadata.name === name)) this.seen.delete(name);
    const changes: Array<{ node: NodeObject; verdict: NodeVerdict }> = [];
    for (const node of nodes) {
      const name = node.metadata.name;
      const renewTime = renewals.get(name) ?? null;
      const prev = this.seen.get(name);
      if (!prev || prev.renewTime !== renewTime) this.seen.set(name, { renewTime, observedAt: now });
      const h = this.seen.get(name)!;
      const stale = now - h.observedAt > this.graceMs;
      if (stale && !isMarkedUnreachable(node)) changes.push({ node, verdict: 'unreachable' });
      else if (!stale && renewTime !== null && !isMarkedReady(node)) changes.push({ node, verdict: 'ready' });
    }
    return changes;
  }
}

export function isMarkedReady(node: NodeObject): boolean {
  return conditionOf(node.status?.conditions, 'Ready')?.status === 'True' && !(node.spec?.taints ?? []).some(isLifecycleTaint);
}

function isMarkedUnreachable(node: NodeObject): boolean {
  const taints = node.spec?.taints ?? [];
  return (
    conditionOf(node.status?.conditions, 'Ready')?.status === 'Unknown' &&
    taints.some((t) => t.key === UNREACHABLE_TAINT_KEY && t.effect === 'NoExecute') &&
    taints.some((t) => t.key === UNREACHABLE_TAINT_KEY && t.effect === 'NoSchedule')
  );
}

const isLifecycleTaint = (t: Taint) => t.key === UNREACHABLE_TAINT_KEY || t.key === NOT_READY_TAINT_KEY;

/**
 * The node's conditions and taints after the verdict. Unreachable: every condition Unknown with reason
 * NodeStatusUnknown and both unreachable taints (NoSchedule, and NoExecute with timeAdded), as the real
 * controller writes them. Ready: the kubelet's healthy conditions, lifecycle taints removed. Other taints stay.
 */
export function nodeMarking(node: NodeObject, verdict: NodeVerdict, now: string): NodeMarking {
  const old = node.status?.conditions ?? [];
  const others = (node.spec?.taints ?? []).filter((t) => !isLifecycleTaint(t));
  const transition = (c: Omit<Condition, 'lastTransitionTime'>): Condition => {
    const before = conditionOf(old, c.type);
    return { ...c, lastTransitionTime: before?.status === c.status ? (before.lastTransitionTime ?? now) : now };
  };
  if (verdict === 'ready') {
    return { conditions: HEALTHY_CONDITIONS.map((c) => transition({ ...c, lastHeartbeatTime: now })), taints: others };
  }
  const types = old.some((c) => c.type === 'Ready') ? old : [...old, { type: 'Ready', status: 'Unknown' as const }];
  return {
    conditions: types.map((c) =>
      transition({
        type: c.type,
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        ...(c.lastHeartbeatTime ? { lastHeartbeatTime: c.lastHeartbeatTime } : {}),
      }),
    ),
    taints: [...others, { key: UNREACHABLE_TAINT_KEY, effect: 'NoSchedule' }, { key: UNREACHABLE_TAINT_KEY, effect: 'NoExecute', timeAdded: now }],
  };
}
