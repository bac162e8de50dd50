/**
 * The lab kubelet's work, one pass: bind unscheduled pods, make or remove pod namespaces with the lab's
 * CNI (under the lab lock, recorded in the lab state so exec and info see them), then report each pod's
 * status. Idempotent: a pass with nothing to do reads the state file and writes nothing.
 */
import type { Logger } from 'pino';
import { nextPodHost, podAddr } from '../addressing.js';
import { loadKnownPlugins } from '../builtin-plugins.js';
import { addPodNetwork, removePodNetworks } from '../cni.js';
import { labContext } from '../lab-context.js';
import { netnsName, netnsSuffix } from '../names.js';
import type { LabPlugin } from '../plugins.js';
import type { LabState, PodState } from '../state.js';
import { loadState, saveState, withLock } from '../state-store.js';
import { isStatus, type ApiClient } from './api-client.js';
import { apiPaths } from './api-paths.js';
import { kubeTime, type NodeObject, type PodObject } from './kube-types.js';
import { isTerminal, runningStatus, statusIsCurrent } from './pod-objects.js';
import { pickNode } from './pod-scheduler.js';
import { isEmptyPlan, planPodSync } from './pod-sync-plan.js';

export class PodReconciler {
  private plugins: LabPlugin[] | undefined;

  constructor(
    private readonly api: ApiClient,
    private readonly labDir: string,
    private readonly log: Logger,
  ) {}

  async reconcile(cached: readonly PodObject[]): Promise<void> {
    let s = await loadState(this.labDir);
    if (!s) return;
    const pods = await this.schedule(s, cached);
    if (!isEmptyPlan(planPodSync(s, pods))) s = await this.syncNetns(pods);
    await this.reportStatus(s, pods);
  }

  /** Binds pods without spec.nodeName; returns the pods as they are after binding. */
  private async schedule(s: LabState, cached: readonly PodObject[]): Promise<PodObject[]> {
    const live = (p: PodObject) => !p.metadata.deletionTimestamp && !isTerminal(p);
    const pending = cached.filter((p) => !p.spec?.nodeName && live(p));
    if (pending.length === 0) return [...cached];
    const nodes = (await this.api.list<NodeObject>(apiPaths.nodes)).items;
    const candidates = s.nodes.flatMap((n) => {
      const node = nodes.find((o) => o.metadata.name === n.name);
      return node ? [{ role: n.role, node }] : [];
    });
    const result = [...cached];
    const podsOn = (node: string) => result.filter((p) => p.spec?.nodeName === node && live(p)).length;
    for (const pod of pending) {
      const node = pickNode(pod, candidates, podsOn);
      if (node === undefined) continue;
      const { namespace = 'default', name } = pod.metadata;
      const bound = await this.api.patch<PodObject>(apiPaths.pod(namespace, name), { spec: { nodeName: node } }).catch((err: unknown) => {
        if (isStatus(err, 'NotFound')) return undefined;
        throw err;
      });
      if (!bound) continue;
      result[result.indexOf(pod)] = bound;
      this.log.info({ pod: `${namespace}/${name}`, node }, 'pod scheduled');
    }
    return result;
  }

  private async syncNetns(pods: readonly PodObject[]): Promise<LabState> {
    return withLock(this.labDir, async () => {
      const s = await loadState(this.labDir);
      if (!s) throw new Error(`lab state in ${this.labDir} is gone`);
      const ctx = labContext(s);
      const plugins = (this.plugins ??= loadKnownPlugins(s.plugins));
      try {
        const plan = planPodSync(s, pods);
        if (plan.remove.length > 0) {
          await removePodNetworks(s, plan.remove);
          s.pods = s.pods.filter((m) => !plan.remove.includes(m));
          for (const m of plan.remove) {
            this.log.info({ pod: `${m.namespace}/${m.name}`, netns: m.netns }, 'pod namespace removed');
            for (const p of plugins) await p.podDeleted?.(ctx, m);
          }
        }
        for (const { made, labels } of plan.relabel) made.labels = labels;
        for (const pod of plan.add) {
          const made = await this.makePod(s, pod);
          if (!made) continue;
          this.log.info({ pod: `${made.namespace}/${made.name}`, node: made.node, netns: made.netns, ips: made.ips }, 'pod namespace made');
          for (const p of plugins) await p.podAdded?.(ctx, made);
        }
      } finally {
        await saveState(s);
      }
      return s;
    });
  }

  private async makePod(s: LabState, pod: PodObject): Promise<PodState | undefined> {
    const node = s.nodes.find((n) => n.name === pod.spec?.nodeName)!;
    const host = nextPodHost(s.pods.filter((m) => m.node === node.name).map((m) => m.host));
    if (host === undefined) {
      this.log.warn({ pod: pod.metadata.name, node: node.name }, 'node is full; pod stays Pending');
      return undefined;
    }
    const netns = netnsName(s.prefix, netnsSuffix.pod(s.podSeq + 1));
    const ip = podAddr(node.index, host);
    const made: PodState = {
      namespace: pod.metadata.namespace ?? 'default',
      name: pod.metadata.name,
      node: node.name,
      netns,
      hostVeth: netns,
      host,
      ips: s.ipv6 ? [ip.v4, ip.v6] : [ip.v4],
      labels: { ...pod.metadata.labels },
      uid: pod.metadata.uid!,
    };
    s.podSeq += 1;
    await addPodNetwork(s, node, made);
    s.pods.push(made);
    return made;
  }

  private async reportStatus(s: LabState, pods: readonly PodObject[]): Promise<void> {
    for (const pod of pods) {
      const made = s.pods.find((m) => m.uid !== undefined && m.uid === pod.metadata.uid);
      const node = s.nodes.find((n) => n.name === made?.node);
      if (!made || !node || statusIsCurrent(pod, made, node)) continue;
      const status = runningStatus(pod, made, node, kubeTime());
      await this.api.patch(apiPaths.podStatus(made.namespace, made.name), { status }).catch((err: unknown) => {
        if (!isStatus(err, 'NotFound')) throw err;
      });
    }
  }
}
