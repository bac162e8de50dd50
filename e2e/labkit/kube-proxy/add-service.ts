/** Lab.addService under the lab's lock: plan it, run the backend's echo server, write every node's rules. */
import { isRunning } from '../daemons.js';
import { networkOf } from '../network-options.js';
import type { LabContext } from '../plugins.js';
import type { LabState } from '../state.js';
import { backendEchoDaemon, backendRole, syncKubeProxy } from './kube-proxy.js';
import { planService, type ServiceSpec, type ServiceState } from './services.js';

export async function addServiceToLab(s: LabState, ctx: LabContext, spec: ServiceSpec): Promise<ServiceState> {
  const net = networkOf(s);
  if (net.kubeProxy === 'none') throw new Error(`lab ${s.name} runs no kube-proxy: bring it up with kubeProxy iptables or nftables`);
  const svc = planService(s, spec, { http: s.echo.httpPort, udp: s.echo.udpPort });
  const pod = s.pods.find((p) => p.namespace === svc.backend.namespace && p.name === svc.backend.name)!;
  const recorded = s.daemons.find((d) => d.role === backendRole(pod));
  if (!recorded) await ctx.startDaemon(backendEchoDaemon(s, pod));
  else if (!(await isRunning(recorded))) await ctx.startRecordedDaemon(recorded.role);
  const before = s.services ?? [];
  s.services = [...before, svc];
  try {
    await syncKubeProxy(s, net);
  } catch (err) {
    s.services = before;
    throw err;
  }
  return svc;
}
