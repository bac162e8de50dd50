/**
 * How long a change takes to reach packets, in the 3-node lab (1 worker, 2 gateway nodes) with the
 * real controller and agents, timed on the servers' side: the API server's commit times (its
 * `/debug/changes` journal) and the external host's capture times (tcpdump). Four figures, each
 * over `--trials` trials (p50, p99, max):
 *
 *   policy created → status.eip      the POST's commit → the commit of the status write naming the EIP
 *   policy created → first EIP packet the POST's commit → the first datagram that arrives from the EIP
 *   pod Ready → first EIP packet      the commit of the kubelet's Ready status → its first EIP datagram
 *   policy deleted → node IP again    the DELETE's commit → the first datagram from the node's IP
 *
 * and where a new pod's time goes: Ready → slice written (controller), slice → each agent's apply
 * (informer, debounce, plan) and the apply itself (agent logs), apply → first packet. A pod sends a
 * UDP datagram every ~2 ms, each a new connection, so each one takes the path the kernel has then.
 *
 *   node dist/bench/convergence/convergence.js [--trials 50]
 *
 * Root only; builds its own lab and always tears it down, also on Ctrl-C.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseBenchArgs, type UsageSpec } from '../command-line.js';
import { netnsName, netnsSuffix } from '../../e2e/labkit/names.js';
import { cleanupOnSignal } from '../../e2e/labkit/signal-cleanup.js';
import { applyObjects, kubectl } from '../../e2e/scenarios/support/kubectl.js';
import { appSelector, egressPolicy } from '../../e2e/scenarios/support/manifests.js';
import { waitAssigned } from '../../e2e/scenarios/support/policy-status.js';
import { GATEWAY_NAME, ScenarioLab } from '../../e2e/scenarios/support/scenario-lab.js';
import { within } from '../throughput/deadline.js';
import { appliesOf, firstApplyAfter } from './agent-applies.js';
import { changesSince, currentResourceVersion, firstChange, isReadyPod, RESOURCES, sliceLists, type Change } from './server-changes.js';
import { summarize, type Summary } from './stats.js';
import { PORT_BASE, PORT_COUNT, UdpTap } from './udp-tap.js';
import { UdpSender } from './udp-sender.js';

const WORKER = 'worker-1';
const NAMESPACE = 'default';
const LAB_UP_MS = 240_000;
const LAB_DOWN_MS = 60_000;
/** spidernet's e2e allows 20 s for a new policy; a trial slower than this is a failure, not a figure. */
const TRIAL_TIMEOUT_MS = 20_000;

/** The goals, p99 in ms, in the 3-node lab on a quiet machine. */
export const TARGETS = { policyToStatus: 300, podReadyToPacket: 500, policyToPacket: 1000 } as const;

const log = (line: string) => void process.stderr.write(`${line}\n`);
const loadAverage = async () => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ');

interface PolicyTrial {
  readonly created: number;
  readonly deleted: number;
  readonly statusEip: number | undefined;
  readonly firstEip: number;
  readonly backOnNode: number;
}

interface PodTrial {
  readonly pod: string;
  readonly ready: number | undefined;
  readonly slice: number | undefined;
  readonly worker: { start: number; end: number } | undefined;
  readonly gateway: { start: number; end: number } | undefined;
  readonly firstEip: number;
  /** False when the pod's first datagram already had the EIP: the sender started late, the figure is an upper bound. */
  readonly sawNodeIpFirst: boolean;
}

async function policyTrials(env: ScenarioLab, tap: UdpTap, trials: number, eip: string, nodeIp: string): Promise<PolicyTrial[]> {
  const port = PORT_BASE;
  const rv = await currentResourceVersion(env.lab);
  const sender = await UdpSender.start(await env.lab.netnsOf({ pod: `${NAMESPACE}/web` }), env.info.echo.ipv4, port);
  const marks: { name: string; firstEip: number; backOnNode: number }[] = [];
  try {
    await tap.waitFirst(port, nodeIp, 0, TRIAL_TIMEOUT_MS);
    for (let i = 0; i < trials; i++) {
      const name = `conv-${i}`;
      const before = Date.now();
      await applyObjects(env.lab, [egressPolicy(NAMESPACE, name, { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('web') })]);
      const first = await tap.waitFirst(port, eip, before, TRIAL_TIMEOUT_MS);
      const beforeDelete = Date.now();
      await kubectl(env.lab, ['delete', 'egresspolicy', name, '-n', NAMESPACE]);
      const back = await tap.waitFirst(port, nodeIp, Math.max(beforeDelete, first.at), TRIAL_TIMEOUT_MS);
      marks.push({ name, firstEip: first.at, backOnNode: back.at });
      log(`policy trial ${i + 1}/${trials}`);
    }
  } finally {
    await sender.stop();
  }
  const changes = await changesSince(env.lab, rv, [RESOURCES.policies]);
  return marks.map((m) => {
    const of = (test: (c: Change) => boolean) => firstChange(changes, RESOURCES.policies, m.name, NAMESPACE, test)?.at;
    const created = of((c) => c.type === 'ADDED');
    const deleted = of((c) => c.type === 'DELETED');
    if (created === undefined || deleted === undefined) throw new Error(`the API server's journal lacks the creation or deletion of ${m.name}`);
    return { created, deleted, statusEip: of((c) => c.type !== 'DELETED' && c.object.status?.eip?.ipv4 === eip), firstEip: m.firstEip, backOnNode: m.backOnNode };
  });
}

async function podTrials(env: ScenarioLab, tap: UdpTap, trials: number, eip: string, nodeIp: string): Promise<PodTrial[]> {
  const policy = egressPolicy(NAMESPACE, 'conv-pods', { egressGatewayName: GATEWAY_NAME, appliedTo: appSelector('conv-new') });
  await applyObjects(env.lab, [policy]);
  const carrier = (await waitAssigned(env.lab, policy)).node;
  const rv = await currentResourceVersion(env.lab);
  const marks: { pod: string; firstEip: number; sawNodeIpFirst: boolean }[] = [];
  for (let i = 0; i < trials; i++) {
    const port = PORT_BASE + 1 + (i % (PORT_COUNT - 1));
    const state = await env.lab.state();
    const netns = netnsName(state.prefix, netnsSuffix.pod(state.podSeq + 1));
    const name = `conv-new-${i}`;
    const sender = await UdpSender.start(netns, env.info.echo.ipv4, port, { whenExists: true });
    try {
      const before = Date.now();
      await env.lab.addPod({ namespace: NAMESPACE, name, labels: { app: 'conv-new' }, node: WORKER });
      const made = await env.lab.netnsOf({ pod: `${NAMESPACE}/${name}` });
      if (made !== netns) throw new Error(`pod ${name} got namespace ${made}, not ${netns}: another pod was made meanwhile`);
      const first = await tap.waitFirst(port, eip, before, TRIAL_TIMEOUT_MS);
      const earliest = tap.between(port, before, first.at + 1)[0];
      marks.push({ pod: `${NAMESPACE}/${name}`, firstEip: first.at, sawNodeIpFirst: earliest?.src === nodeIp });
    } finally {
      await sender.stop();
      tap.forget(port);
    }
    await env.lab.deletePod(`${NAMESPACE}/${name}`);
    log(`pod trial ${i + 1}/${trials}`);
  }
  await kubectl(env.lab, ['delete', 'egresspolicy', 'conv-pods', '-n', NAMESPACE]);
  const changes = await changesSince(env.lab, rv, [RESOURCES.pods, RESOURCES.slices]);
  const [workerApplies, gatewayApplies] = await Promise.all([appliesOf(env.lab.dir, WORKER), appliesOf(env.lab.dir, carrier)]);
  return marks.map((m) => {
    const [ns, name] = m.pod.split('/') as [string, string];
    const ready = firstChange(changes, RESOURCES.pods, name, ns, isReadyPod)?.at;
    const slice = firstChange(changes, RESOURCES.slices, undefined, ns, sliceLists(m.pod))?.at;
    const worker = slice === undefined ? undefined : firstApplyAfter(workerApplies, slice);
    const gateway = slice === undefined ? undefined : firstApplyAfter(gatewayApplies, slice);
    return { pod: m.pod, ready, slice, worker, gateway, firstEip: m.firstEip, sawNodeIpFirst: m.sawNodeIpFirst };
  });
}

const ms = (x: number) => (Number.isNaN(x) ? '-' : String(Math.round(x)));
const defined = (xs: readonly (number | undefined)[]) => xs.filter((x): x is number => x !== undefined && Number.isFinite(x));

function row(label: string, s: Summary, target?: number): string {
  const verdict = target === undefined ? '' : `p99 < ${target} ms: ${s.p99 < target ? 'met' : 'MISSED'}`;
  return `${label.padEnd(38)} ${String(s.n).padStart(3)} ${ms(s.p50).padStart(7)} ${ms(s.p99).padStart(7)} ${ms(s.max).padStart(7)}  ${verdict}`.trimEnd();
}

function report(policies: readonly PolicyTrial[], pods: readonly PodTrial[], load: { before: string; after: string }): string {
  const lines = [
    `load average before ${load.before}, after ${load.after} (the targets are for a quiet machine)`,
    '',
    `${'ms, server-side timestamps'.padEnd(38)} ${'n'.padStart(3)} ${'p50'.padStart(7)} ${'p99'.padStart(7)} ${'max'.padStart(7)}`,
    row('policy created → status.eip', summarize(defined(policies.map((t) => (t.statusEip === undefined ? undefined : t.statusEip - t.created)))), TARGETS.policyToStatus),
    row('policy created → first EIP packet', summarize(policies.map((t) => t.firstEip - t.created)), TARGETS.policyToPacket),
    row('pod Ready → first EIP packet', summarize(defined(pods.map((t) => (t.ready === undefined ? undefined : t.firstEip - t.ready)))), TARGETS.podReadyToPacket),
    row('policy deleted → node IP again', summarize(policies.map((t) => t.backOnNode - t.deleted))),
    '',
    "where a new pod's time goes",
    row('  Ready → slice written', summarize(defined(pods.map((t) => (t.ready === undefined || t.slice === undefined ? undefined : t.slice - t.ready))))),
    row('  slice written → worker apply starts', summarize(defined(pods.map((t) => (t.worker && t.slice !== undefined ? t.worker.start - t.slice : undefined))))),
    row('  worker apply', summarize(defined(pods.map((t) => (t.worker ? t.worker.end - t.worker.start : undefined))))),
    row('  slice written → gateway apply starts', summarize(defined(pods.map((t) => (t.gateway && t.slice !== undefined ? t.gateway.start - t.slice : undefined))))),
    row('  gateway apply', summarize(defined(pods.map((t) => (t.gateway ? t.gateway.end - t.gateway.start : undefined))))),
    row('  last apply done → first EIP packet', summarize(defined(pods.map((t) => (t.worker && t.gateway ? t.firstEip - Math.max(t.worker.end, t.gateway.end) : undefined))))),
  ];
  const late = pods.filter((t) => !t.sawNodeIpFirst).length;
  if (late) lines.push(`(${late} pod trial(s) had no datagram before the EIP path: their sender started late, so those figures are upper bounds)`);
  const noStatus = policies.filter((t) => t.statusEip === undefined).length;
  if (noStatus) lines.push(`(${noStatus} policy trial(s) were deleted before status.eip was written)`);
  return `${lines.join('\n')}\n`;
}

const USAGE: UsageSpec = { command: 'node dist/bench/convergence/convergence.js' };

export async function main(argv: readonly string[]): Promise<number> {
  const { values } = parseBenchArgs(USAGE, { trials: { type: 'string', default: '50' } }, argv);
  const trials = Number(values.trials);
  if (!Number.isInteger(trials) || trials < 1 || trials >= PORT_COUNT) throw new Error(`--trials must be an integer from 1 to ${PORT_COUNT - 1}`);
  if (process.getuid?.() !== 0) {
    process.stderr.write('convergence benchmark needs root (network namespaces)\n');
    return 2;
  }
  const suffix = 'conv';
  const release = cleanupOnSignal(() => ScenarioLab.downUnfinished(suffix));
  try {
    log('building the lab (1 worker, 2 gateway nodes)');
    const env = await within(
      LAB_UP_MS,
      'building the lab',
      ScenarioLab.up(suffix, {
        workers: 1,
        gateways: 2,
        nodeGraceSeconds: 40,
        pods: [{ namespace: NAMESPACE, name: 'web', labels: { app: 'web' }, node: WORKER }],
      }),
    );
    try {
      const nodeIp = env.nodeIpOf(`${NAMESPACE}/web`);
      const eip = env.defaultEipV4;
      const tap = await UdpTap.start(env.lab);
      try {
        const before = await loadAverage();
        const policies = await policyTrials(env, tap, trials, eip, nodeIp);
        const pods = await podTrials(env, tap, trials, eip, nodeIp);
        process.stdout.write(report(policies, pods, { before, after: await loadAverage() }));
      } finally {
        await tap.stop();
      }
    } finally {
      log('tearing the lab down');
      await within(LAB_DOWN_MS, 'tearing the lab down', env.down());
    }
    return 0;
  } finally {
    await within(LAB_DOWN_MS, 'tearing the lab down', ScenarioLab.downUnfinished(suffix)).catch(() => undefined);
    release();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`convergence benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
