import type { Logger } from 'pino';
import type { Metrics } from '../../lib/metrics/metrics.js';
import { NflogReader, type NflogBatch } from '../../lib/dataplane/nflog/nflog-reader.js';
import type { LoggedPacket } from '../../lib/dataplane/nflog/nflog-wire.js';

/** Lines per second the agent writes for denials on this node, and at once; the rest are counted. */
export const DENIAL_LINES_PER_SECOND = 50;
const DENIAL_LINE_BURST = 100;
/** Denials counted but not written are summed up in one warning at most this often. */
const SUMMARY_EVERY_MS = 30_000;

/** What a logged packet's prefix and source are matched against: this node's firewalls and pods. */
export interface DenialContext {
  /** Counted comment (the log prefix) → firewall key and rule (`#N`, `default`). */
  readonly rules: ReadonlyMap<string, { readonly firewall: string; readonly rule: string }>;
  /** Pod address → `namespace/name`. */
  readonly pods: ReadonlyMap<string, string>;
}

export interface FirewallDenialsOptions {
  readonly group: number;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Tests give a smaller budget. */
  readonly linesPerSecond?: number;
  readonly burst?: number;
}

/**
 * Firewall denials as log lines: the deny rules log to an nfnetlink_log group (rate-limited per
 * rule in the kernel), this reads it and writes one line per denial with the pod, destination,
 * port, protocol and the firewall rule, and counts it. A prefix no firewall of this node has (a
 * foreign rule logging to the same group) is written as such and counted as `other`, so nothing a
 * packet carries becomes a metric label.
 */
export class FirewallDenials {
  readonly #options: FirewallDenialsOptions;
  readonly #reader: NflogReader;
  #context: DenialContext = { rules: new Map(), pods: new Map() };
  #unwritten = 0;
  #overflows = 0;
  #summaryAt = 0;
  #reading: boolean | undefined;

  constructor(options: FirewallDenialsOptions) {
    this.#options = options;
    this.#reader = new NflogReader({
      group: options.group,
      linesPerSecond: options.linesPerSecond ?? DENIAL_LINES_PER_SECOND,
      burst: options.burst ?? DENIAL_LINE_BURST,
      onBatch: (batch) => this.#onBatch(batch),
      onState: (state) => this.#onState(state),
    });
  }

  /** The firewalls and pods of this node's current plan. */
  update(context: DenialContext): void {
    this.#context = context;
  }

  #onState(state: { readonly ok: true } | { readonly ok: false; readonly message: string }): void {
    const { log, metrics, group } = this.#options;
    metrics.firewallDenialLogReading(state.ok);
    if (state.ok) log.info({ op: 'firewall-deny-log', group }, 'reading firewall denials from nfnetlink_log');
    // Once per change: a group another reader holds fails every few seconds.
    else if (this.#reading !== false)
      log.warn({ op: 'firewall-deny-log', group, err: state.message }, 'firewall denials cannot be read; they are not logged (tried again every few seconds)');
    this.#reading = state.ok;
  }

  #onBatch(batch: NflogBatch): void {
    const { log, metrics } = this.#options;
    for (const p of batch.packets) this.#write(p);
    metrics.firewallDenialsUnlogged('budget', batch.suppressed);
    metrics.firewallDenialsUnlogged('overflow', batch.overflows);
    this.#unwritten += batch.suppressed;
    this.#overflows += batch.overflows;
    const now = performance.now();
    if ((this.#unwritten > 0 || this.#overflows > 0) && now - this.#summaryAt >= SUMMARY_EVERY_MS) {
      log.warn(
        { op: 'firewall-deny', unwritten: this.#unwritten, overflows: this.#overflows, linesPerSecond: this.#options.linesPerSecond ?? DENIAL_LINES_PER_SECOND },
        'more firewall denials than the log budget: counted, not written',
      );
      this.#summaryAt = now;
      this.#unwritten = this.#overflows = 0;
    }
  }

  #write(p: LoggedPacket): void {
    const known = this.#context.rules.get(p.prefix);
    const pod = p.source === undefined ? undefined : this.#context.pods.get(p.source);
    this.#options.metrics.firewallDenialLogged(known?.firewall ?? 'other', known?.rule ?? 'other');
    this.#options.log.info(
      {
        op: 'firewall-deny',
        ...(known ? { firewall: known.firewall, rule: known.rule } : { prefix: p.prefix }),
        ...(pod !== undefined ? { pod } : {}),
        ...(p.source !== undefined ? { source: p.source } : {}),
        ...(p.destination !== undefined ? { destination: p.destination } : {}),
        ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
        ...(p.port !== undefined ? { port: p.port } : {}),
      },
      known ? 'firewall denied a connection' : 'a packet was logged to the firewall denial group by a rule of no firewall here',
    );
  }

  close(): Promise<void> {
    return this.#reader.close();
  }
}
