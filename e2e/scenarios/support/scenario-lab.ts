/**
 * A lab shared by a file of scenarios: a simulated cluster with a sluice agent per node, its
 * gateway nodes labelled, one EgressGateway over them and a few long-lived pods. Each scenario
 * runs through `scenario()`, which deletes what it applied and waits until the shared pods leave
 * by their node again, so the next one starts clean.
 */
import { waitGatewaysFit } from './peer-liveness.js';
import { existsSync } from 'node:fs';
import type { KubeObject } from '../../../lib/api/wire.js';
import type { LabInfo, PodInfo } from '../../labkit/info.js';
import { KUBECTL } from '../../labkit/kubectl.js';
import { allSettledOrThrow, Lab, type PodSpec } from '../../labkit/lab.js';
import type { AgentRunSpec } from '../../labkit/state.js';
import type { NetworkOptions } from '../../labkit/network-options.js';
import { tempLabBase } from '../../labkit/test-support.js';
import { eipV4, eipV6, nodeIp, poolV4, poolV6 } from './addresses.js';
import { expectLeavesAs } from './echo.js';
import { applyObjects, deleteObjects, kubectl } from './kubectl.js';
import { egressGateway } from './manifests.js';

export const GATEWAY_NAME = 'default';
export const GATEWAY_NODE_LABELS = { egress: 'true' };
/** The gateway's pool: the first POOL_SIZE addresses of the lab's free range; the default EIP in it. */
export const POOL_SIZE = 40;
export const DEFAULT_EIP_OFFSET = 5;

/** Why the scenarios cannot run on this machine, or false. */
export const scenarioSkip: string | false =
  process.getuid?.() !== 0
    ? 'skipped: the scenarios build a cluster in network namespaces and need root (run the suite as root)'
    : !existsSync(KUBECTL)
      ? `skipped: the scenarios drive the cluster with kubectl, and ${KUBECTL} does not exist (install kubectl 1.32 or set SLUICE_LAB_KUBECTL)`
      : false;

export interface ScenarioLabOptions {
  workers: number;
  gateways: number;
  ipv6?: boolean;
  nodeGraceSeconds?: number;
  /** Pods that live as long as the lab (scenarios select them by label). */
  pods?: readonly PodSpec[];
  /** Labels for the namespaces of those pods. */
  namespaceLabels?: Record<string, Record<string, string>>;
  /** How the agents run (another tree, limited capabilities, a container's /proc/sys). */
  agent?: AgentRunSpec;
  /** false: no sluice yet (no agents, no controllers); installSluice() starts it later. */
  agents?: boolean;
  /** The first update of each of sluice's resources is answered 409 Conflict (LabUpOptions.apiConflicts). */
  apiConflicts?: boolean;
  /** CNI masquerade, kube-proxy, second NIC (default: the lab's eth0-only CNI, no kube-proxy, one NIC). */
  network?: Partial<NetworkOptions>;
  /** Run the cluster DNS pod (kube-system, k8s-app=kube-dns) that the pods resolve through. */
  kubeDns?: boolean;
}

const scenarioLabName = (suffix: string) => `sc-${process.pid}-${suffix}`;

export class ScenarioLab {
  private failures = 0;

  private constructor(
    readonly lab: Lab,
    public info: LabInfo,
    private readonly sharedPods: readonly string[],
  ) {}

  /** Lab names carry the pid, so runs never meet; the lab is torn down if anything here fails. */
  static async up(suffix: string, opts: ScenarioLabOptions): Promise<ScenarioLab> {
    const lab = await Lab.up(scenarioLabName(suffix), {
      workers: opts.workers,
      gateways: opts.gateways,
      ipv6: opts.ipv6 ?? false,
      nodeGraceSeconds: opts.nodeGraceSeconds ?? 5,
      ...(opts.agent ? { agent: opts.agent } : {}),
      ...(opts.agents === false ? { agents: false } : {}),
      ...(opts.apiConflicts ? { apiConflicts: true } : {}),
      baseDir: await tempLabBase(),
      ...(opts.network ? { network: opts.network } : {}),
      ...(opts.kubeDns ? { kubeDns: true } : {}),
    });
    try {
      const info = await lab.info();
      const gateways = info.nodes.filter((n) => n.role === 'gateway').map((n) => n.name);
      const pods = opts.pods ?? [];
      // The gateway and the pods do not depend on each other: made side by side.
      const gateway = async () => {
        await kubectl(lab, ['label', 'node', ...gateways, ...Object.entries(GATEWAY_NODE_LABELS).map(([k, v]) => `${k}=${v}`), '--overwrite']);
        await applyObjects(lab, [
          egressGateway(GATEWAY_NAME, GATEWAY_NODE_LABELS, {
            ipv4: [poolV4(info, POOL_SIZE)],
            ipv4DefaultEIP: eipV4(info, DEFAULT_EIP_OFFSET),
            ...(info.ipv6 ? { ipv6: [poolV6(info, POOL_SIZE)], ipv6DefaultEIP: eipV6(info, DEFAULT_EIP_OFFSET) } : {}),
          }),
        ]);
      };
      await allSettledOrThrow([gateway(), ...pods.map((p) => lab.addPod(p))]);
      for (const [ns, labels] of Object.entries(opts.namespaceLabels ?? {})) {
        await kubectl(lab, ['label', 'namespace', ns, ...Object.entries(labels).map(([k, v]) => `${k}=${v}`), '--overwrite']);
      }
      // A gateway node still in its start hold stands aside: a policy made now would be assigned to it
      // and move to another node seconds later, which scenarios that keep an assignment would read as a failover.
      if (opts.agents !== false && gateways.length > 1) await waitGatewaysFit(lab, gateways);
      return new ScenarioLab(
        lab,
        await lab.info(),
        pods.map((p) => `${p.namespace}/${p.name}`),
      );
    } catch (err) {
      await lab.down({ keepLogs: true }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Takes down, by name, a lab whose `up` never returned (its hook timed out while it was being
   * built): nothing else would, and its namespaces would outlive the test process.
   */
  static async downUnfinished(suffix: string): Promise<void> {
    await Lab.down(scenarioLabName(suffix), { baseDir: await tempLabBase(), keepLogs: true });
  }

  /** Keeps the daemons' logs when a scenario failed (or SLUICE_SCENARIO_KEEP_LOGS is set) and says where. */
  async down(): Promise<void> {
    const keepLogs = this.failures > 0 || !!process.env['SLUICE_SCENARIO_KEEP_LOGS'];
    await this.lab.down({ keepLogs });
    if (keepLogs) process.stderr.write(`lab ${this.lab.name}: daemon logs kept in ${this.lab.dir}/logs\n`);
  }

  get defaultEipV4(): string {
    return eipV4(this.info, DEFAULT_EIP_OFFSET);
  }

  get defaultEipV6(): string {
    return eipV6(this.info, DEFAULT_EIP_OFFSET);
  }

  get gatewayNodes(): string[] {
    return this.info.nodes.filter((n) => n.role === 'gateway').map((n) => n.name);
  }

  /** The address a pod leaves with when no policy applies: its node's IP (the CNI masquerades). */
  nodeIpOf(pod: string, family: 4 | 6 = 4): string {
    const [namespace, name] = pod.split('/');
    const p = this.info.pods.find((x) => x.namespace === namespace && x.name === name);
    if (!p) throw new Error(`no pod ${pod} in lab ${this.lab.name}`);
    return nodeIp(this.info, p.node, family);
  }

  /** Runs one scenario and always cleans up after it, whether it passed or not. */
  async scenario(body: (s: Scenario) => Promise<void>): Promise<void> {
    const s = new Scenario(this);
    let failed = true;
    try {
      await body(s);
      failed = false;
    } finally {
      if (failed) this.failures++;
      await s.cleanup().catch((err: unknown) => {
        if (!failed) throw err;
      });
      this.info = await this.lab.info();
    }
  }

  /** Waits until every shared pod leaves by its node again (no policy of a scenario left in force). */
  async settle(): Promise<void> {
    for (const pod of this.sharedPods) await expectLeavesAs(this.lab, pod, this.nodeIpOf(pod));
  }
}

/** What one scenario applied and created, so it can be undone. */
export class Scenario {
  private readonly objects: KubeObject[] = [];
  private readonly pods: string[] = [];

  constructor(readonly env: ScenarioLab) {}

  get lab(): Lab {
    return this.env.lab;
  }

  async apply(...objects: KubeObject[]): Promise<void> {
    for (const o of objects) {
      if (!this.objects.some((x) => x.kind === o.kind && x.metadata?.name === o.metadata?.name && x.metadata?.namespace === o.metadata?.namespace)) this.objects.push(o);
    }
    await applyObjects(this.lab, objects);
  }

  async addPod(spec: PodSpec): Promise<PodInfo> {
    this.pods.push(`${spec.namespace}/${spec.name}`);
    const pod = await this.lab.addPod(spec);
    this.env.info = await this.lab.info();
    return pod;
  }

  async cleanup(): Promise<void> {
    const info = await this.lab.info();
    for (const pod of this.pods) {
      if (info.pods.some((p) => `${p.namespace}/${p.name}` === pod)) await this.lab.deletePod(pod);
    }
    await deleteObjects(this.lab, [...this.objects].reverse());
    this.env.info = await this.lab.info();
    await this.env.settle();
  }
}
