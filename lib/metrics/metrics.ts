import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every metric sluice exports, behind named verbs so callers never touch prom-client directly.
 * One instance per process; tests create their own.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly planSeconds = new Histogram({ name: 'sluice_plan_duration_seconds', help: 'time to compile a NodePlan', buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2], registers: [this.registry] });
  private readonly applySeconds = new Histogram({ name: 'sluice_apply_duration_seconds', help: 'time to apply a NodePlan to one kernel subsystem', labelNames: ['subsystem'], buckets: [0.0005, 0.002, 0.01, 0.05, 0.25, 1, 5], registers: [this.registry] });
  private readonly kernelWrites = new Counter({ name: 'sluice_kernel_writes_total', help: 'kernel changes made, by subsystem', labelNames: ['subsystem'], registers: [this.registry] });
  private readonly applyErrors = new Counter({ name: 'sluice_apply_errors_total', help: 'failed applies, by subsystem', labelNames: ['subsystem'], registers: [this.registry] });
  private readonly lastApplyOk = new Gauge({ name: 'sluice_apply_ok', help: '1 when the last apply of the subsystem succeeded', labelNames: ['subsystem'], registers: [this.registry] });
  private readonly policies = new Gauge({ name: 'sluice_policies', help: 'policies known to this node, by role here and state', labelNames: ['role', 'state'], registers: [this.registry] });
  private readonly eipsHeld = new Gauge({ name: 'sluice_eips_held', help: 'egress IPs held by this node', labelNames: ['family'], registers: [this.registry] });
  private readonly announcements = new Counter({ name: 'sluice_announcements_total', help: 'gratuitous ARP / unsolicited NA frames sent', labelNames: ['family'], registers: [this.registry] });
  private readonly leader = new Gauge({ name: 'sluice_leader', help: '1 while this agent holds the controller lease', registers: [this.registry] });
  private readonly reconciles = new Counter({ name: 'sluice_reconciles_total', help: 'reconcile runs, by result', labelNames: ['result'], registers: [this.registry] });
  private readonly policyPackets = new Gauge({ name: 'sluice_policy_packets', help: 'packets matched by a policy rule on this node (nft counter)', labelNames: ['policy', 'rule'], registers: [this.registry] });
  private readonly policyBytes = new Gauge({ name: 'sluice_policy_bytes', help: 'bytes matched by a policy rule on this node (nft counter)', labelNames: ['policy', 'rule'], registers: [this.registry] });

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'sluice_' });
  }

  planComputed(seconds: number): void {
    this.planSeconds.observe(seconds);
  }

  applied(subsystem: string, seconds: number, writes: number, ok: boolean): void {
    this.applySeconds.observe({ subsystem }, seconds);
    if (writes > 0) this.kernelWrites.inc({ subsystem }, writes);
    if (!ok) this.applyErrors.inc({ subsystem });
    this.lastApplyOk.set({ subsystem }, ok ? 1 : 0);
  }

  policyCounts(counts: readonly { role: string; state: string; count: number }[]): void {
    this.policies.reset();
    for (const c of counts) this.policies.set({ role: c.role, state: c.state }, c.count);
  }

  eips(v4: number, v6: number): void {
    this.eipsHeld.set({ family: 'ipv4' }, v4);
    this.eipsHeld.set({ family: 'ipv6' }, v6);
  }

  announced(family: 4 | 6, frames = 1): void {
    this.announcements.inc({ family: family === 4 ? 'ipv4' : 'ipv6' }, frames);
  }

  leadership(isLeader: boolean): void {
    this.leader.set(isLeader ? 1 : 0);
  }

  reconciled(result: 'ok' | 'error'): void {
    this.reconciles.inc({ result });
  }

  ruleCounters(counters: readonly { policy: string; rule: string; packets: number; bytes: number }[]): void {
    this.policyPackets.reset();
    this.policyBytes.reset();
    for (const c of counters) {
      this.policyPackets.set({ policy: c.policy, rule: c.rule }, c.packets);
      this.policyBytes.set({ policy: c.policy, rule: c.rule }, c.bytes);
    }
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }
}
