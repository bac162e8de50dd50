import { Option, type Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { EgressError } from '../../lib/errors.js';
import { DRAIN_ANNOTATION, REBALANCE_ANNOTATION } from '../../lib/api/group.js';

interface MaintenanceFlags {
  kubeconfig?: string;
  wait: string;
}

/** How often the commands look again while they wait. */
const POLL_MS = 500;

function waitSeconds(text: string): number {
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 3600) throw new EgressError('EGW_ERR_CONFIG', '--wait must be 0-3600 seconds');
  return seconds;
}

function addFlags(command: Command, what: string): Command {
  return command
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .addOption(new Option('--wait <seconds>', `how long to wait until ${what} (0: do not wait)`).default('120'));
}

async function clientFor(flags: MaintenanceFlags) {
  // Loaded here, not at the top: the offline commands start without client-node.
  const [{ loadKubeConfig }, { KubeClient }, maintenance] = await Promise.all([
    import('../../lib/kube/kubeconfig.js'),
    import('../../lib/kube/rest-client.js'),
    import('../../lib/cluster/maintenance.js'),
  ]);
  return { client: new KubeClient(await loadKubeConfig(flags.kubeconfig ? { path: flags.kubeconfig } : {}), { userAgent: 'sluice-cli' }), maintenance };
}

/** Polls `done` until it returns a text (printed) or the wait runs out (EGW_ERR_WAIT with `late`'s text). */
async function waitFor(seconds: number, done: () => Promise<string | undefined>, late: () => Promise<string>): Promise<void> {
  const until = Date.now() + seconds * 1000;
  for (;;) {
    const text = await done();
    if (text !== undefined) {
      process.stdout.write(`${text}\n`);
      return;
    }
    if (Date.now() >= until) throw new EgressError('EGW_ERR_WAIT', await late());
    await sleep(POLL_MS);
  }
}

export function registerMaintenance(program: Command): void {
  addFlags(
    program
      .command('drain')
      .argument('<node>', 'the Node to drain')
      .summary('move every egress IP off a node (make-before-break) and wait until it carries none')
      .description(
        `move every egress IP off a node before maintenance: sets the annotation ${DRAIN_ANNOTATION}=true, then waits until no policy names the node in status. Each EIP moves make-before-break (the next node takes it before this one lets go), and the node carries none while drained. A cordon (kubectl cordon/drain) drains as well; ${DRAIN_ANNOTATION}=false keeps a cordoned node eligible. A node that is its gateway's only eligible node keeps its EIPs`,
      ),
    'no policy leaves through the node',
  ).action(async (node: string, flags: MaintenanceFlags) => {
    const seconds = waitSeconds(flags.wait);
    const { client, maintenance } = await clientFor(flags);
    try {
      await maintenance.setDrain(client, node, true);
      const before = await maintenance.policiesCarriedBy(client, node);
      process.stdout.write(`node/${node} annotated ${DRAIN_ANNOTATION}=true; ${before.length} polic${before.length === 1 ? 'y leaves' : 'ies leave'} through it\n`);
      if (seconds === 0) return;
      const t0 = Date.now();
      await waitFor(
        seconds,
        async () =>
          (await maintenance.policiesCarriedBy(client, node)).length === 0
            ? `drained: no policy leaves through node/${node} (${((Date.now() - t0) / 1000).toFixed(1)} s)`
            : undefined,
        async () =>
          `node/${node} still carries ${(await maintenance.policiesCarriedBy(client, node)).join(', ')} after ${seconds} s: is another node of its gateway eligible (Ready, matching the nodeSelector, not drained)? The drain stays in force`,
      );
    } finally {
      client.close();
    }
  });

  program
    .command('undrain')
    .argument('<node>', 'the Node to make eligible again')
    .summary('let a drained node carry egress IPs again (nothing moves back)')
    .description(
      `remove the annotation ${DRAIN_ANNOTATION}: the node may carry egress IPs again once it is not cordoned either. Nothing moves back (ownership is sticky); new EIPs, and \`sluice rebalance\`, may use it`,
    )
    .option('--kubeconfig <path>', 'kubeconfig (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .action(async (node: string, flags: Omit<MaintenanceFlags, 'wait'>) => {
      const { client, maintenance } = await clientFor({ ...flags, wait: '0' });
      try {
        const after = await maintenance.setDrain(client, node, false);
        process.stdout.write(`node/${node}: annotation ${DRAIN_ANNOTATION} removed\n`);
        if (maintenance.isCordoned(after))
          process.stdout.write(
            `node/${node} is still cordoned, so it stays drained: \`kubectl uncordon ${node}\` (or annotate it ${DRAIN_ANNOTATION}=false to keep it eligible while cordoned)\n`,
          );
      } finally {
        client.close();
      }
    });

  addFlags(
    program
      .command('rebalance')
      .argument('<gateway>', 'the EgressGateway whose egress IPs to spread again')
      .summary("move a gateway's egress IPs to their preferred nodes, one at a time, make-before-break")
      .description(
        `ask the controller to move the gateway's egress IPs to the nodes they would get were they new (ownership is sticky, so a node that joins takes only new ones): sets the annotation ${REBALANCE_ANNOTATION} to a new request token and waits until status.rebalance reports it Done. The controller moves one EIP at a time, make-before-break, and never a useNodeIP policy`,
      ),
    'the controller reports the rebalance done',
  ).action(async (gateway: string, flags: MaintenanceFlags) => {
    const seconds = waitSeconds(flags.wait);
    const { client, maintenance } = await clientFor(flags);
    try {
      const token = maintenance.rebalanceToken(new Date());
      await maintenance.requestRebalance(client, gateway, token);
      process.stdout.write(`egressgateway/${gateway}: rebalance requested (${REBALANCE_ANNOTATION}=${token})\n`);
      if (seconds === 0) return;
      await waitFor(
        seconds,
        async () => {
          const p = await maintenance.rebalanceProgress(client, gateway);
          if (p.request === token && p.state === 'Done') return `rebalanced: ${p.message ?? 'done'}`;
          return undefined;
        },
        async () =>
          `rebalance of egressgateway/${gateway} not done after ${seconds} s: ${(await maintenance.rebalanceProgress(client, gateway)).message ?? 'the controller has not taken the request up (is it running?)'}; the request stays in force`,
      );
    } finally {
      client.close();
    }
  });
}
