/**
 * The netns lab as a library: one Lab per simulated cluster. Every call reads and writes the state
 * file under the lab's lock, so the CLI and in-process tests can work on the same lab.
 */
import { join } from 'node:path';
import { MAX_PODS_PER_NODE, nextPodHost, podAddr } from './addressing.js';
import { defaultPluginNames, loadKnownPlugins, loadPlugins } from './builtin-plugins.js';
import { addPodNetwork, removePodNetworks } from './cni.js';
import { daemonState, startDaemon, stopDaemon, type DaemonSpec } from './daemons.js';
import { echoProbe, parseEchoReply, type IpFamily } from './echo-client.js';
import { echoDaemon, prepareEchoTls, zoneFile } from './echo-daemon.js';
import { defaultZone } from './dns/default-zone.js';
import { DNS_QUERY_SCRIPT, KUBE_DNS_POD, deleteDnsRecord, kubeDnsDaemon, readZone, setDnsRecord, writeZone, type DnsRecordInput } from './dns/lab-dns.js';
import type { DnsQueryResult } from './dns/dns-query.js';
import type { Zone, ZoneRecord } from './dns/zone.js';
import type { EchoProto, EchoReply } from './echo-reply.js';
import { labInfo, podInfo, type LabInfo, type PodInfo } from './info.js';
import { addServiceToLab } from './kube-proxy/add-service.js';
import type { ServiceSpec, ServiceState } from './kube-proxy/services.js';
import { kubectlCommand } from './kubectl.js';
import { findDaemon, labContext, runBeforeDown } from './lab-context.js';
import { labPrefix, netnsName, netnsSuffix } from './names.js';
import { listNetns } from './netns.js';
import { networkOf, type NetworkOptions } from './network-options.js';
import { planLab } from './plan.js';
import { healPartition, partitionNodes } from './partition.js';
import { armReaper, type Reaper } from './reaper/arm.js';
import { API_SERVER_ROLE, agentRole, type LabContext, type LabHandle, type LabPlugin, type PodSpec } from './plugins.js';
import { run, type RunOptions, type RunResult } from './run.js';
import { cleanupOnSignal } from './signal-cleanup.js';
import { findNode, findPod, parsePodRef, type AgentRunSpec, type DaemonState, type LabState, type NodeState, type PodRef } from './state.js';
import { LabGoneError, LabLockedError, labBaseDir, labDir, loadState, prefixesInUse, removeStateDir, saveState, withLock } from './state-store.js';
import { segment2Netns } from './second-nic.js';
import { teardownLab } from './teardown.js';
import { buildNetwork, setNodeLink } from './topology.js';

export type { PodSpec } from './plugins.js';

export interface LabUpOptions {
  workers?: number;
  gateways?: number;
  ipv6?: boolean;
  /** Published for the API server plugin: how long a silent node stays Ready. */
  nodeGraceSeconds?: number;
  /** The cluster plugin starts a sluice agent per node unless this is false. */
  agents?: boolean;
  /** How it runs them: another tree's CLI, limited capabilities, a container's /proc/sys. */
  agent?: AgentRunSpec;
  /** The RBAC gate answers the first update of each of sluice's resources with 409 Conflict, as when another writer got there first. */
  apiConflicts?: boolean;
  /** Default: every builtin plugin. Pass [] for the bare network. */
  plugins?: LabPlugin[];
  /** CNI masquerade mode and tool, kube-proxy, second NIC (network-options.ts); default: today's lab. */
  network?: Partial<NetworkOptions>;
  /**
   * Run the cluster DNS: Pod kube-system/coredns (k8s-app=kube-dns) with a forwarding DNS server, the
   * resolver of every pod made after it. Off by default: it is a pod like any other (it takes a pod
   * address and counts for the scheduler). `{ node }` places it.
   */
  kubeDns?: boolean | { node?: string };
  /** Tear down a lab of the same name first instead of failing. */
  replace?: boolean;
  baseDir?: string;
}

export interface LabDownOptions {
  baseDir?: string;
  keepLogs?: boolean;
  /** Whose beforeDown hooks run; default: the plugins recorded in the state that this build knows. */
  plugins?: readonly LabPlugin[];
  /** Its owner is gone (the reaper): no beforeDown hooks, every process SIGKILLed at once. */
  hard?: boolean;
}

/** Where a command runs: a pod, a node, or one of the lab's own hosts. */
export type ExecTarget = { pod: string | PodRef } | { node: string } | { host: 'ext' | 'control' | 'lan' | 'seg' };

const DNS_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const DEFAULT_EXEC_TIMEOUT_MS = 30_000;
const DOWN_LOCK_WAIT_MS = 5_000;

/** The reapers of the labs this process built, by state dir, until their lab is down or handed on. */
const reapers = new Map<string, Reaper>();

function disarmReaper(dir: string): void {
  reapers.get(dir)?.disarm();
  reapers.delete(dir);
}

export class Lab implements LabHandle {
  private releaseSignal: (() => void) | undefined;

  private constructor(
    readonly name: string,
    readonly dir: string,
    private readonly plugins: LabPlugin[],
  ) {}

  /**
   * Builds the lab and returns once every host, the echo service and all plugins are up. The lab dies
   * with this process, however it ends (reaper/arm.ts), unless detach() hands it on.
   */
  static async up(name: string, opts: LabUpOptions = {}): Promise<Lab> {
    const baseDir = opts.baseDir ?? labBaseDir();
    const dir = labDir(name, baseDir);
    if (opts.replace) await Lab.down(name, { baseDir });
    const plugins = opts.plugins ?? loadPlugins(defaultPluginNames());
    const state = planLab(name, dir, {
      workers: opts.workers ?? 1,
      gateways: opts.gateways ?? 1,
      ipv6: opts.ipv6 ?? false,
      nodeGraceSeconds: opts.nodeGraceSeconds ?? 40,
      agents: opts.agents ?? true,
      ...(opts.agent ? { agent: opts.agent } : {}),
      ...(opts.apiConflicts ? { apiConflicts: true } : {}),
      plugins: plugins.map((p) => p.name),
      ...(opts.network ? { network: opts.network } : {}),
    });
    const lab = new Lab(name, dir, plugins);
    await withLock(dir, async () => {
      const other = (await prefixesInUse(baseDir, name)).get(state.prefix);
      if (other) throw new Error(`lab ${name} would share prefix ${state.prefix} with lab ${other}; pick another name`);
      const existing = await listNetns(state.prefix);
      if ((await loadState(dir)) || existing.length > 0) {
        throw new Error(`lab ${name} already exists (${existing.join(', ') || 'state'}); run \`e2e/lab down ${name}\` first`);
      }
      // Armed before anything exists, so no moment of the build can outlive this process.
      const reaper = await armReaper({ kind: 'lab', name, baseDir });
      reapers.set(dir, reaper);
      state.owner = reaper.owner;
      await saveState(state).catch((err: unknown) => {
        disarmReaper(dir);
        throw err;
      });
    });
    lab.releaseSignal = cleanupOnSignal(async () => void (await Lab.down(name, { baseDir, plugins })));
    try {
      await lab.mutate(async (s, ctx) => {
        // openssl's work for the echo overlaps the network's.
        await Promise.all([buildNetwork(s), prepareEchoTls(s), writeZone(zoneFile(s), defaultZone(s.ipv6))]);
        // The echo service, and the nodes, come up side by side (each node's hooks in plugin order): most
        // of a bring-up is waiting for processes to start, which would otherwise add up one after another.
        await allSettledOrThrow([
          ctx.startDaemon(echoDaemon(s)),
          (async () => {
            for (const p of lab.plugins) await p.afterNetwork?.(ctx);
            const nodesFrom = s.daemons.length;
            await allSettledOrThrow(
              s.nodes.map(async (node) => {
                for (const p of lab.plugins) await p.nodeAdded?.(ctx, node);
              }),
            );
            // Recorded node by node, as if they had come up one after another: `info` lists them alike every time.
            const nodeIndex = (d: DaemonState) => s.nodes.findIndex((n) => n.netns === d.netns);
            s.daemons.splice(nodesFrom, Infinity, ...s.daemons.slice(nodesFrom).sort((a, b) => nodeIndex(a) - nodeIndex(b)));
          })(),
        ]);
        if (!opts.kubeDns) s.phase = 'ready';
      });
      // Without the lock: with the cluster plugin, its kubelet makes the pod.
      if (opts.kubeDns) {
        await lab.startKubeDns(typeof opts.kubeDns === 'object' ? opts.kubeDns.node : undefined);
        await lab.mutate(async (s) => void (s.phase = 'ready'));
      }
    } catch (err) {
      // Should that fail too, the reaper stays armed and tries again when this process ends.
      await Lab.down(name, { baseDir, plugins, keepLogs: true }).catch(() => undefined);
      lab.stopSignalCleanup();
      throw err;
    }
    return lab;
  }

  /** Attaches to a lab built earlier (by the CLI or another process), loading the plugins it was built with. */
  static async open(name: string, opts: { baseDir?: string; plugins?: LabPlugin[] } = {}): Promise<Lab> {
    const dir = labDir(name, opts.baseDir);
    const state = await loadState(dir);
    if (!state) throw new Error(`no lab ${name} (no state in ${dir}); run \`e2e/lab up ${name}\``);
    return new Lab(name, dir, opts.plugins ?? loadKnownPlugins(state.plugins));
  }

  /**
   * Removes every namespace, veth and process of the lab, found by name prefix, so it works with
   * partial or missing state. Idempotent.
   */
  static async down(name: string, opts: LabDownOptions = {}): Promise<string[]> {
    const dir = labDir(name, opts.baseDir);
    const work = async () => {
      const state = await loadState(dir).catch(() => undefined);
      if (state && !opts.hard) await runBeforeDown(state, opts.plugins ?? loadKnownPlugins(state.plugins));
      const removed = await teardownLab(labPrefix(name), state?.daemons ?? [], { hard: opts.hard ?? false });
      await removeStateDir(dir, opts.keepLogs ?? false);
      // Only once it is really down: a failed down is retried by the reaper when this process ends.
      disarmReaper(dir);
      return removed;
    };
    // A lock held by a stuck process must not keep a lab alive: after a short wait, go ahead anyway.
    // Taken down by another caller while this one waited: down already.
    return withLock(dir, work, DOWN_LOCK_WAIT_MS).catch((err: unknown) => (err instanceof LabLockedError ? work() : err instanceof LabGoneError ? [] : Promise.reject(err)));
  }

  async down(opts: { keepLogs?: boolean } = {}): Promise<string[]> {
    try {
      return await Lab.down(this.name, { baseDir: join(this.dir, '..'), plugins: this.plugins, ...opts });
    } finally {
      this.stopSignalCleanup();
    }
  }

  /** Keeps the lab alive when this process is interrupted or exits, however it ends (the CLI after `up`). */
  detach(): void {
    this.stopSignalCleanup();
    disarmReaper(this.dir);
  }

  private stopSignalCleanup(): void {
    this.releaseSignal?.();
    this.releaseSignal = undefined;
  }

  async state(): Promise<LabState> {
    const s = await loadState(this.dir);
    if (!s) throw new Error(`lab ${this.name} is gone (no state in ${this.dir})`);
    return s;
  }

  async info(): Promise<LabInfo> {
    return labInfo(await this.state());
  }

  /** Creates a pod; with a pod-owning plugin (the cluster plugin) through its API, else directly. */
  async addPod(spec: PodSpec): Promise<PodInfo> {
    for (const [what, v] of [
      ['namespace', spec.namespace],
      ['name', spec.name],
    ] as const) {
      if (!DNS_NAME.test(v)) throw new Error(`pod ${what} ${JSON.stringify(v)} is not a DNS subdomain`);
    }
    const owner = this.plugins.find((p) => p.addPod !== undefined);
    if (owner?.addPod) return owner.addPod(this, spec);
    return this.mutate(async (s, ctx) => {
      if (s.pods.some((p) => p.namespace === spec.namespace && p.name === spec.name)) {
        throw new Error(`pod ${spec.namespace}/${spec.name} already exists`);
      }
      const node = spec.node !== undefined ? findNode(s, spec.node) : leastLoaded(s);
      const host = nextPodHost(s.pods.filter((p) => p.node === node.name).map((p) => p.host));
      if (host === undefined) throw new Error(`node ${node.name} already has ${MAX_PODS_PER_NODE} pods`);
      const netns = netnsName(s.prefix, netnsSuffix.pod(s.podSeq + 1));
      const ip = podAddr(node.index, host);
      const pod = {
        namespace: spec.namespace,
        name: spec.name,
        node: node.name,
        netns,
        hostVeth: netns,
        host,
        ips: s.ipv6 ? [ip.v4, ip.v6] : [ip.v4],
        labels: { ...spec.labels },
      };
      s.podSeq += 1;
      await addPodNetwork(s, node, pod);
      s.pods.push(pod);
      for (const p of this.plugins) await p.podAdded?.(ctx, pod);
      return podInfo(pod);
    });
  }

  async deletePod(ref: string | PodRef): Promise<void> {
    const want = typeof ref === 'string' ? parsePodRef(ref) : ref;
    const owner = this.plugins.find((p) => p.deletePod !== undefined);
    if (owner?.deletePod) return owner.deletePod(this, want);
    await this.mutate(async (s, ctx) => {
      const pod = findPod(s, want);
      await removePodNetworks(s, [pod]);
      s.pods = s.pods.filter((p) => p !== pod);
      for (const p of this.plugins) await p.podDeleted?.(ctx, pod);
    });
  }

  /** Runs a command in the target's namespace; throws on non-zero exit unless allowFailure. */
  async exec(target: ExecTarget, argv: readonly string[], opts: Omit<RunOptions, 'netns'> = {}): Promise<RunResult> {
    return run(argv, { timeoutMs: DEFAULT_EXEC_TIMEOUT_MS, ...opts, netns: await this.netnsOf(target) });
  }

  /**
   * Asks the echo service from the target which address it sees, i.e. what the target's traffic is
   * source-NATed to. Throws when there is no answer within timeoutSec.
   */
  async echoFrom(target: ExecTarget, proto: EchoProto, family: IpFamily = 4, timeoutSec = 2): Promise<EchoReply> {
    const probe = echoProbe((await this.info()).echo, proto, family, timeoutSec);
    const r = await this.exec(target, probe.argv, {
      timeoutMs: (timeoutSec + 3) * 1000,
      ...(probe.input === undefined ? {} : { input: probe.input }),
    });
    return parseEchoReply(r.stdout, proto);
  }

  async netnsOf(target: ExecTarget): Promise<string> {
    const s = await this.state();
    if ('pod' in target) return findPod(s, typeof target.pod === 'string' ? parsePodRef(target.pod) : target.pod).netns;
    if ('node' in target) return findNode(s, target.node).netns;
    if (target.host !== 'seg') return s.netns[target.host];
    if (!networkOf(s).secondNic) throw new Error(`lab ${s.name} has no second segment (up --second-nic)`);
    return segment2Netns(s);
  }

  /** Runs kubectl against the lab's API server (in the control namespace, with the lab's kubeconfig). */
  async kubectl(args: readonly string[], opts: Omit<RunOptions, 'netns' | 'env'> = {}): Promise<RunResult> {
    const cmd = kubectlCommand(await this.state(), args);
    return run(cmd.argv, { timeoutMs: DEFAULT_EXEC_TIMEOUT_MS, ...opts, netns: cmd.netns, env: cmd.env });
  }

  /**
   * The API server stops answering and drops its watches (objects stay) until apiServerUp. Uses the
   * plugin's fault hook; without one, stops the `apiserver` daemon.
   */
  async apiServerDown(): Promise<void> {
    await this.mutate(async (_s, ctx) => {
      const hook = this.plugins.find((p) => p.apiServerDown !== undefined);
      await (hook?.apiServerDown ? hook.apiServerDown(ctx) : ctx.stopDaemon(API_SERVER_ROLE));
    });
  }

  async apiServerUp(): Promise<void> {
    await this.mutate(async (_s, ctx) => {
      const hook = this.plugins.find((p) => p.apiServerUp !== undefined);
      await (hook?.apiServerUp ? hook.apiServerUp(ctx) : ctx.startRecordedDaemon(API_SERVER_ROLE));
    });
  }

  /** A Service the lab's kube-proxy serves on every node; runs the echo server in its backend pod. */
  async addService(spec: ServiceSpec): Promise<ServiceState> {
    return this.mutate((s, ctx) => addServiceToLab(s, ctx, spec));
  }

  /** The cluster DNS pod and its server; every pod made afterwards resolves through it. */
  private async startKubeDns(node: string | undefined): Promise<void> {
    const { namespace, name, labels } = KUBE_DNS_POD;
    await this.addPod({ namespace, name, labels: { ...labels }, ...(node === undefined ? {} : { node }) });
    await this.mutate(async (s, ctx) => {
      await ctx.startDaemon(kubeDnsDaemon(findPod(s, { namespace, name })));
      s.dns = { kubeDns: { namespace, name } };
    });
  }

  /** What the external DNS server answers now. */
  async dnsZone(): Promise<Zone> {
    return readZone(await this.state());
  }

  /** Sets a name's answer on the external DNS server (addresses or a CNAME, TTL, rotation); effective on return. */
  async setDns(fqdn: string, record: DnsRecordInput): Promise<ZoneRecord> {
    return this.mutate((s, ctx) => setDnsRecord(s, ctx, fqdn, record));
  }

  /** Removes a name from the external DNS server (NXDOMAIN from then on). */
  async deleteDns(fqdn: string): Promise<void> {
    await this.mutate((s, ctx) => deleteDnsRecord(s, ctx, fqdn));
  }

  /**
   * Asks a DNS server from the target's namespace, as the target would (default: its resolv.conf's first
   * nameserver), over UDP or TCP. Throws when no answer comes back.
   */
  async dnsQuery(target: ExecTarget, name: string, opts: { type?: string; server?: string; tcp?: boolean; timeoutSec?: number } = {}): Promise<DnsQueryResult> {
    const t = opts.timeoutSec ?? 2;
    const argv = [
      process.execPath,
      DNS_QUERY_SCRIPT,
      name,
      `--type=${opts.type ?? 'A'}`,
      `--timeout=${t}`,
      ...(opts.server ? [`--server=${opts.server}`] : []),
      ...(opts.tcp ? ['--tcp'] : []),
    ];
    const r = await this.exec(target, argv, { timeoutMs: (t + 5) * 1000 });
    return JSON.parse(r.stdout) as DnsQueryResult;
  }

  /** Cuts the node's LAN link at the bridge: hard, the node gets no goodbye. */
  async failNode(name: string): Promise<void> {
    await this.setNodeFailed(name, true);
  }

  async healNode(name: string): Promise<void> {
    await this.setNodeFailed(name, false);
  }

  /**
   * Cuts the LAN between two nodes in both directions; each still reaches every other host. Lasts
   * until healPartition (or the lab goes).
   */
  async partition(a: string, b: string): Promise<void> {
    await this.mutate(async (s) => partitionNodes(s, findNode(s, a), findNode(s, b)));
  }

  async healPartition(a: string, b: string): Promise<void> {
    await this.mutate(async (s) => healPartition(s, findNode(s, a), findNode(s, b)));
  }

  /**
   * Sets only the node's LAN link down or up at the bridge: its agent and heartbeat keep running (a
   * flapping network, unlike failNode, which also kills the agent).
   */
  async setLink(name: string, up: boolean): Promise<void> {
    await this.mutate(async (s) => setNodeLink(s, findNode(s, name), up));
  }

  /** SIGKILLs the node's agent alone: the node stays Ready (its heartbeat goes on). */
  async killAgent(node: string): Promise<void> {
    await this.mutate(async (_s, ctx) => ctx.stopDaemon(agentRole(node), { hard: true }));
  }

  /**
   * SIGTERM to the node's agent, as the kubelet stops a pod, then SIGKILL after graceMs (the
   * default terminationGracePeriodSeconds is 30 s); returns once it has exited.
   */
  async stopAgent(node: string, graceMs = 30_000): Promise<void> {
    await this.mutate(async (_s, ctx) => ctx.stopDaemon(agentRole(node), { graceMs }));
  }

  /** Starts the node's agent again after killAgent or stopAgent; returns once it is ready. */
  async startAgent(node: string): Promise<void> {
    await this.startDaemon(agentRole(node));
  }

  /** Stops a recorded background process (e.g. "apiserver", "agent:worker-1"); it stays restartable. */
  async stopDaemon(role: string): Promise<void> {
    await this.mutate(async (_s, ctx) => ctx.stopDaemon(role));
  }

  /** Starts a daemon the lab has no record of and records it (e.g. sluice, in a lab brought up with `agents: false`). */
  async addDaemon(spec: DaemonSpec): Promise<void> {
    await this.mutate(async (_s, ctx) => ctx.startDaemon(spec));
  }

  /** Starts a stopped daemon again from its record. */
  async startDaemon(role: string): Promise<void> {
    await this.mutate(async (s) => startDaemon(findDaemon(s, role)));
  }

  /**
   * Stops a recorded daemon and starts it again as `spec` says (same role), e.g. a node's agent
   * with other capabilities. The new command is recorded: later restarts use it.
   */
  async replaceDaemon(spec: DaemonSpec): Promise<void> {
    await this.mutate(async (s) => {
      const d = findDaemon(s, spec.role);
      await stopDaemon(d);
      Object.assign(d, { ...daemonState(spec, d.log), pid: null, startTicks: null });
      await startDaemon(d);
    });
  }

  async restartDaemon(role: string): Promise<void> {
    await this.mutate(async (s) => {
      const d = findDaemon(s, role);
      await stopDaemon(d);
      await startDaemon(d);
    });
  }

  private async setNodeFailed(name: string, failed: boolean): Promise<void> {
    await this.mutate(async (s, ctx) => {
      const node = findNode(s, name);
      await setNodeLink(s, node, !failed);
      node.failed = failed;
      for (const p of this.plugins) await (failed ? p.nodeFailed?.(ctx, node) : p.nodeHealed?.(ctx, node));
    });
  }

  /** Load, change, save under the lock; the state is saved even when fn fails half-way. */
  private async mutate<T>(fn: (s: LabState, ctx: LabContext) => Promise<T>): Promise<T> {
    return withLock(this.dir, async () => {
      const s = await this.state();
      try {
        return await fn(s, labContext(s));
      } finally {
        await saveState(s);
      }
    });
  }
}

/** Brings a lab up, runs fn, and always takes the lab down afterwards. */
export async function withLab<T>(name: string, opts: LabUpOptions, fn: (lab: Lab) => Promise<T>): Promise<T> {
  const lab = await Lab.up(name, opts);
  try {
    return await fn(lab);
  } finally {
    await lab.down();
  }
}

/** Promise.all that returns only once every promise has settled: nothing is still starting when the caller tears down after a failure. */
export async function allSettledOrThrow(work: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

function leastLoaded(s: LabState): NodeState {
  const candidates = s.nodes.some((n) => n.role === 'worker') ? s.nodes.filter((n) => n.role === 'worker') : s.nodes;
  const load = (n: NodeState) => s.pods.filter((p) => p.node === n.name).length;
  return candidates.reduce((best, n) => (load(n) < load(best) ? n : best));
}
