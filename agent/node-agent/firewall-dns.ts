import type { Logger } from 'pino';
import { ipFamily } from '../../lib/api/ip.js';
import { errorMessage } from '../../lib/errors.js';
import { DnsForwarder } from '../../lib/dns/forwarder.js';
import type { DnsRuleTarget } from '../../lib/dns/learn.js';
import type { NftDriver } from '../../lib/dataplane/nft/nft-driver.js';
import type { FirewallNameRule } from '../../lib/planner/firewall-rules.js';
import { dnsSteerSet } from '../../lib/planner/firewall-dns-steering.js';
import type { Metrics } from '../../lib/metrics/metrics.js';

/** How often the forwarder renews the steering, and how long one renewal lasts. */
const HEARTBEAT_MS = 1000;
const STEER_TIMEOUT_S = 3;

export interface FirewallDnsOptions {
  readonly port: number;
  /** The cluster DNS Service address pods query; the forwarder asks it in their place. */
  readonly upstream: string;
  readonly graceSeconds: number;
  readonly nft: NftDriver;
  readonly metrics: Metrics;
  readonly log: Logger;
}

/**
 * The node's DNS forwarder for firewalls' rules by name, and the heartbeat that keeps pods
 * steered to it: while it answers it renews its upstream address in the steer set every second
 * for three; when the agent stops or dies, the element expires and pods' DNS goes straight to
 * the cluster DNS again.
 */
export class FirewallDns {
  readonly #options: FirewallDnsOptions;
  readonly #forwarders: DnsForwarder[] = [];
  #rules: readonly FirewallNameRule[] = [];
  #targets: readonly DnsRuleTarget[] = [];
  /** The pods steered here: those of the firewalls with rules by name on this node. */
  #clients: ReadonlySet<string> = new Set();
  #heartbeat?: NodeJS.Timeout;
  #steering = false;
  #bound?: string;

  constructor(options: FirewallDnsOptions) {
    this.#options = options;
  }

  /**
   * Before the apply of a plan with these rules by name: the forwarder answers their pods too from
   * now on (it learns for the rules it has until update()), and while it listens, the steer element
   * goes into every table replace, so an apply that creates or re-creates the steer set fills it in
   * the same transaction: a pod is never steered to a forwarder that ignores it, nor left unsteered
   * while the forwarder runs.
   */
  prepare(rules: readonly FirewallNameRule[]): void {
    this.#clients = new Set([...this.#clients, ...rules.flatMap((r) => [...r.clients])]);
    this.#keepSteering(rules.length > 0 && this.#forwarders.length > 0);
  }

  #keepSteering(on: boolean): void {
    const o = this.#options;
    const family = ipFamily(o.upstream);
    o.nft.keepLearned(on ? [{ set: dnsSteerSet(family), family, address: o.upstream, timeoutSeconds: STEER_TIMEOUT_S }] : []);
  }

  /**
   * The rules by name of this node's plan, and the node addresses its steering rule sends queries
   * to. The forwarder listens on exactly those addresses, so its answers leave from the address
   * the pod's query was rewritten to and conntrack turns them back into the cluster DNS's.
   */
  async update(rules: readonly FirewallNameRule[], nodeAddresses: readonly string[]): Promise<void> {
    this.#rules = rules;
    this.#targets = rules.map((r) => ({ pattern: r.pattern, sets: r.sets, appliesTo: (client: string) => r.clients.has(client.replace(/^::ffff:(?=\d+\.)/, '')) }));
    this.#clients = new Set(rules.flatMap((r) => [...r.clients]));
    const key = [...nodeAddresses].sort().join(',');
    if (key !== this.#bound) {
      this.#bound = key;
      await this.#listen(nodeAddresses);
    }
    this.#keepSteering(rules.length > 0 && this.#forwarders.length > 0);
    if (rules.length > 0) await this.#renew();
  }

  async #listen(addresses: readonly string[]): Promise<void> {
    const o = this.#options;
    await Promise.all(this.#forwarders.splice(0).map((f) => f.close()));
    for (const host of addresses) {
      const forwarder = new DnsForwarder({
        listen: { host, port: o.port },
        upstream: { host: o.upstream, port: 53 },
        graceSeconds: o.graceSeconds,
        rules: () => this.#targets,
        serves: (client) => this.#clients.has(client),
        learn: (elements) => o.nft.learn(elements),
        onResult: (result, holdMs, learned) => o.metrics.dnsAnswered(result, holdMs / 1000, learned.length),
      });
      try {
        await forwarder.start();
        this.#forwarders.push(forwarder);
        o.log.info({ op: 'firewall-dns', host, port: o.port, upstream: o.upstream }, 'DNS forwarder listening');
      } catch (err) {
        // Without a forwarder there is no heartbeat, so no pod is steered to a dead port.
        o.log.error({ op: 'firewall-dns', host, port: o.port, err: errorMessage(err) }, 'DNS forwarder could not listen; rules by name learn nothing here');
      }
    }
    clearInterval(this.#heartbeat);
    this.#keepSteering(this.#rules.length > 0 && this.#forwarders.length > 0);
    if (this.#forwarders.length === 0) return void (await this.#renew());
    this.#heartbeat = setInterval(() => void this.#renew(), HEARTBEAT_MS);
    this.#heartbeat.unref();
  }

  async #renew(): Promise<void> {
    const o = this.#options;
    let on = false;
    if (this.#rules.length > 0 && this.#forwarders.length > 0) {
      const family = ipFamily(o.upstream);
      try {
        await o.nft.learn([{ set: dnsSteerSet(family), family, address: o.upstream, timeoutSeconds: STEER_TIMEOUT_S }]);
        on = true;
      } catch (err) {
        if (this.#steering) o.log.warn({ op: 'firewall-dns', err: errorMessage(err) }, 'DNS steering not renewed');
      }
    }
    if (on !== this.#steering) {
      this.#steering = on;
      o.metrics.dnsSteeringOn(on);
      o.log.info({ op: 'firewall-dns', steering: on }, on ? 'pods with rules by name are steered to the DNS forwarder' : 'DNS steering off');
    }
  }

  /**
   * A clean stop takes the steer element out at once, so pods' DNS goes straight to the cluster
   * DNS now rather than when the element expires (a crash still has the expiry).
   */
  async stop(): Promise<void> {
    clearInterval(this.#heartbeat);
    this.#rules = [];
    this.#keepSteering(false);
    const o = this.#options;
    if (this.#steering) {
      const family = ipFamily(o.upstream);
      try {
        await o.nft.unlearn([{ set: dnsSteerSet(family), family, address: o.upstream }]);
        this.#steering = false;
        o.metrics.dnsSteeringOn(false);
        o.log.info({ op: 'firewall-dns', steering: false }, 'DNS steering removed: the agent stops');
      } catch (err) {
        o.log.warn({ op: 'firewall-dns', err: errorMessage(err) }, `DNS steering not removed; it ends within ${STEER_TIMEOUT_S} s`);
      }
    }
    await Promise.all(this.#forwarders.map((f) => f.close()));
  }
}
