import type { AgentConfig } from '../planner/config.js';
import type { Snapshot } from '../planner/snapshot.js';
import type { Resolution } from '../planner/resolve.js';
import type { Takeover } from './takeovers.js';
import type { MoveKind } from './gateway-moves.js';
import type { RebalancePlan } from './rebalance.js';
import type { ClusterStore } from '../cluster/store.js';
import type { ObjectWriter, WriteResult } from '../cluster/object-writer.js';
import type { EventRecorder } from '../kube/events.js';
import type { Logger } from '../kube/logger.js';
import { KubeApiError } from '../kube/api-error.js';
import { errorMessage } from '../errors.js';

/** What one controller pass works with. The snapshot includes all Pods (the leader watches them). */
export interface ControllerContext {
  readonly snapshot: Snapshot;
  /** The assignment and node directory: computed once per pass, on first use, by every step alike. */
  readonly resolution: () => Resolution;
  /** The takeovers that resolution follows, by policy key (see takeovers.ts). */
  readonly takeovers: () => ReadonlyMap<string, Takeover>;
  /** The rebalance requests' progress and this pass's move (see rebalance.ts); the resolution includes the move. */
  readonly rebalance: () => RebalancePlan;
  readonly store: ClusterStore;
  readonly writer: ObjectWriter;
  readonly events: EventRecorder;
  readonly config: AgentConfig;
  readonly signal: AbortSignal;
  readonly logger: Logger;
  /** Timestamp for conditions written in this pass (metav1.Time). */
  readonly now: string;
  /**
   * The tunnel marks this leader wrote last, by node (empty when it just took the Lease). They
   * come before status, which any node can write (see assignTunnels): a forged mark is repaired.
   */
  readonly tunnelMarks: { last: Readonly<Record<string, number>> };
}

/** Requests one reconciler sent in one pass, by outcome (tests and logs read it). */
export class PassReport {
  readonly writes = new Map<string, number>();
  readonly errors: unknown[] = [];
  /** Status writes that moved a policy to the node that reported it took it over, by kind. */
  readonly takeovers = new Map<MoveKind, number>();

  tookOver(kind: MoveKind): void {
    this.takeovers.set(kind, (this.takeovers.get(kind) ?? 0) + 1);
  }

  count(result: WriteResult): WriteResult {
    if (result.outcome !== 'unchanged' && result.outcome !== 'gone') {
      this.writes.set(result.outcome, (this.writes.get(result.outcome) ?? 0) + 1);
    }
    return result;
  }

  get total(): number {
    return [...this.writes.values()].reduce((a, b) => a + b, 0);
  }
}

/**
 * A 4xx answer other than 408/409/429 will not change on retry (the object or our request is
 * wrong): it is logged, not retried with backoff, so one bad object cannot slow the others.
 */
function isPermanent(err: unknown): boolean {
  return err instanceof KubeApiError && err.status >= 400 && err.status < 500 && ![408, 409, 429].includes(err.status);
}

/** How long a pass may hold the event loop before timers and I/O run: a pass over 100k pods takes seconds, and the Lease must be renewed meanwhile. */
const HOLD_LOOP_MS = 20;
/** Shared by every pass in the process on purpose: the loop is one, whichever pass holds it. */
let lastYieldAt = 0;

/**
 * Lets timers and I/O run (the Lease renewal, watch events) when the loop has been held for
 * HOLD_LOOP_MS: an item that writes nothing resolves in a microtask, so without this a pass that
 * writes nothing never gives the loop back, and a leader whose renewal cannot run steps down.
 */
async function letTheLoopRun(): Promise<void> {
  if (performance.now() - lastYieldAt < HOLD_LOOP_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  lastYieldAt = performance.now();
}

/**
 * Items one step works on at once. A pass waits mostly on the API server's answers (one write
 * is a round trip, and after a restart at 100k pods a pass writes thousands), so one at a time
 * leaves both ends idle; a few in flight fill the wait without queueing more on the server than
 * it answers promptly (client-go's default burst is 10 requests).
 */
export const ITEMS_IN_FLIGHT = 12;

/**
 * Items in flight for steps whose item posts an Event after its write (policy and gateway
 * status): one. An abort (a lost Lease) between a write and its Event loses the Event for good,
 * since the next pass finds the status written; with 12 in flight one abort lost several.
 */
export const EVENTS_AFTER_WRITES_IN_FLIGHT = 1;

/**
 * Runs `work` for every item, up to `inFlight` at once (items start in order; each item's own
 * work stays sequential), and keeps going when one fails: an abort (lost Lease) stops every
 * worker before its next item and is rethrown once the items in flight settled; other errors
 * are logged and, when transient, collected so the pass is retried.
 */
export async function forEachItem<T>(
  ctx: ControllerContext,
  report: PassReport,
  op: string,
  items: Iterable<T>,
  name: (item: T) => string,
  work: (item: T) => Promise<void>,
  inFlight = ITEMS_IN_FLIGHT,
): Promise<void> {
  const queue = items[Symbol.iterator]();
  const worker = async () => {
    for (;;) {
      await letTheLoopRun();
      ctx.signal.throwIfAborted();
      const next = queue.next();
      if (next.done) return;
      const item = next.value;
      try {
        await work(item);
      } catch (err) {
        ctx.signal.throwIfAborted();
        ctx.logger.warn({ op, name: name(item), err: errorMessage(err) }, `${op} failed`);
        if (!isPermanent(err)) report.errors.push(err);
      }
    }
  };
  const settled = await Promise.allSettled(Array.from({ length: Math.max(1, inFlight) }, worker));
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) throw failed.reason;
}
