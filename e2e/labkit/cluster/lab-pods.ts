/**
 * `lab pod` / `delete-pod` in a lab with an API server: they go through Pod objects, and the lab kubelet
 * does the rest. Both return only once the kubelet finished (pod Ready with its IPs / namespace gone).
 */
import { existsSync } from 'node:fs';
import { podInfo, type PodInfo } from '../info.js';
import type { LabHandle, PodSpec } from '../plugins.js';
import { findNode, type PodRef } from '../state.js';
import { isStatus } from './api-client.js';
import { apiPaths } from './api-paths.js';
import type { PodObject } from './kube-types.js';
import { labApi, pollUntil } from './lab-api.js';
import { isRunningAndReady, podManifest } from './pod-objects.js';

const POD_TIMEOUT_MS = 30_000;

export async function addPodThroughApi(lab: LabHandle, spec: PodSpec): Promise<PodInfo> {
  const s = await lab.state();
  if (spec.node !== undefined) findNode(s, spec.node);
  const api = labApi(s);
  const { namespace: ns, name } = spec;
  if (!(await api.get(apiPaths.namespace(ns)))) {
    await api.create(apiPaths.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch((err: unknown) => {
      if (!isStatus(err, 'AlreadyExists')) throw err;
    });
  }
  const created = await api.create<PodObject>(apiPaths.pods(ns), podManifest(spec)).catch((err: unknown) => {
    throw isStatus(err, 'AlreadyExists') ? new Error(`pod ${ns}/${name} already exists`) : err;
  });
  const uid = created.metadata.uid;
  let last: PodObject | undefined = created;
  return pollUntil(
    async () => {
      last = await api.get<PodObject>(apiPaths.pod(ns, name));
      if (!last || last.metadata.uid !== uid) throw new Error(`pod ${ns}/${name} was deleted while starting`);
      if (!isRunningAndReady(last)) return undefined;
      const made = (await lab.state()).pods.find((p) => p.uid === uid);
      return made && podInfo(made);
    },
    POD_TIMEOUT_MS,
    async () =>
      `pod ${ns}/${name} not Ready after ${POD_TIMEOUT_MS} ms (phase ${last?.status?.phase ?? '?'}, node ${last?.spec?.nodeName ?? 'none'}); ` +
      `see the kubelet log in ${lab.dir}/logs`,
  );
}

export async function deletePodThroughApi(lab: LabHandle, ref: PodRef): Promise<void> {
  const s = await lab.state();
  const api = labApi(s);
  const deleted = await api.delete(apiPaths.pod(ref.namespace, ref.name));
  const made = () => lab.state().then((st) => st.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name));
  const before = await made();
  if (!deleted && !before) throw new Error(`lab ${s.name} has no pod ${ref.namespace}/${ref.name}`);
  await pollUntil(
    async () => ((await made()) === undefined && (!before || !existsSync(`/run/netns/${before.netns}`)) ? true : undefined),
    POD_TIMEOUT_MS,
    async () => `pod ${ref.namespace}/${ref.name}: its namespace is still there after ${POD_TIMEOUT_MS} ms`,
  );
}
