/** `e2e/lab SUBCOMMAND …`: the netns lab from the shell. JSON on stdout, diagnostics on stderr. */
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { defaultPluginNames, loadPlugins } from './builtin-plugins.js';
import { kubectlCommand } from './kubectl.js';
import { Lab, type ExecTarget } from './lab.js';
import { parseLabels } from './labels.js';
import { agentRole } from './plugins.js';
import { labBaseDir } from './state-store.js';
import { ArpWatch, DEFAULT_ARP_INTERVAL_MS } from './flows/arp-watch.js';
import { TcpFlows } from './flows/tcp-flows.js';
import { DEFAULT_RATE, UdpSeqFlow } from './flows/udp-seq.js';
import { SERVICE_TYPES, type ServiceType } from './kube-proxy/services.js';
import { KUBE_PROXY_MODES, MASQUERADE_MODES, NETFILTER_TOOLS, type KubeProxyMode, type MasqueradeMode, type NetfilterTool } from './network-options.js';

const print = (value: unknown) => process.stdout.write(JSON.stringify(value, null, 2) + '\n');

function intArg(min: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number >= ${min}`);
    return n;
  };
}

function secondsArg(v: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new InvalidArgumentError('expected a positive number of seconds');
  return n;
}

function labelsArg(v: string): Record<string, string> {
  try {
    return parseLabels(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

const list = (v: string) => v.split(',').filter(Boolean);

function choiceArg<T extends string>(allowed: readonly T[]) {
  return (v: string): T => {
    if (!(allowed as readonly string[]).includes(v)) throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return v as T;
  };
}

/** Runs a command in a namespace with the terminal attached; resolves to its exit code. */
async function execAttached(netns: string, cmd: string[], env: Record<string, string> = {}): Promise<number> {
  const child = spawn('ip', ['netns', 'exec', netns, ...cmd], { stdio: 'inherit', env: { ...process.env, ...env } });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/**
 * Measures for `seconds` (or until Ctrl-C), then stops and prints what stop() reports. The measuring
 * processes live in groups of their own, bounded to a little longer than the measurement.
 */
async function measureFor<T>(seconds: number, stop: () => Promise<T>): Promise<void> {
  let wake: () => void = () => undefined;
  const interrupted = new Promise<void>((resolve) => (wake = resolve));
  const onSignal = () => wake();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const timer = setTimeout(wake, seconds * 1000);
  try {
    await interrupted;
  } finally {
    clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  print(await stop());
}

const lifetimeFor = (seconds: number) => Math.ceil(seconds) + 60;

// passThroughOptions keeps the `--` that separates the command.
const afterDashes = (cmd: string[]) => (cmd[0] === '--' ? cmd.slice(1) : cmd);

async function execIn(name: string, target: ExecTarget, cmd: string[]): Promise<void> {
  cmd = afterDashes(cmd);
  if (cmd.length === 0) throw new InvalidArgumentError('no command given after --');
  const lab = await Lab.open(name);
  process.exitCode = await execAttached(await lab.netnsOf(target), cmd);
}

const program = new Command('e2e/lab').description('netns lab for sluice: a simulated cluster network (see e2e/labkit)').showHelpAfterError().enablePositionalOptions();

program
  .command('up <name>')
  .description('build the lab and print its info JSON')
  .option('--workers <n>', 'worker nodes', intArg(0), 1)
  .option('--gateways <n>', 'gateway nodes', intArg(0), 1)
  .option('--ipv6', 'dual-stack LAN and pods', false)
  .option('--node-grace <seconds>', 'how long a node without heartbeats stays Ready', secondsArg, 40)
  .option('--no-agents', 'do not start a sluice agent per node')
  .option('--agent-main <path>', 'run the agents from this main.js (e.g. a runtime tree staged by image/runtime-tree.sh)')
  .option('--agent-caps <caps>', 'run the agents with exactly these capabilities, e.g. net_admin,net_raw (as the DaemonSet)', list)
  .option('--container-proc-sys', "read-only /proc/sys for the agents, the node's /proc/sys/net under --sysctl-root (as the DaemonSet)", false)
  .option('--agent-args <flags>', 'more flags for every agent, space-separated, e.g. "--mark-mask 0xff00 --allow-mark-overlap"')
  .option('--plugins <names>', `comma-separated plugins (default: all = ${defaultPluginNames().join(',') || 'none'})`, list)
  .option('--masquerade <mode>', `how the CNI masquerades pod traffic: ${MASQUERADE_MODES.join(', ')}`, choiceArg(MASQUERADE_MODES), 'eth0')
  .option('--netfilter <tool>', `what the CNI writes its rules with: ${NETFILTER_TOOLS.join(', ')}`, choiceArg(NETFILTER_TOOLS), 'nft')
  .option('--kube-proxy <mode>', `Service rules on every node: ${KUBE_PROXY_MODES.join(', ')}`, choiceArg(KUBE_PROXY_MODES), 'none')
  .option('--second-nic', 'give every node an eth1 on a second segment with a host behind it', false)
  .option('--kube-dns', 'run the cluster DNS pod kube-system/coredns (k8s-app=kube-dns), the resolver of the pods made after it', false)
  .option('--kube-dns-node <node>', 'the node of the cluster DNS pod (implies --kube-dns)')
  .option('--replace', 'tear down an existing lab of that name first', false)
  .action(
    async (
      name: string,
      o: {
        workers: number;
        gateways: number;
        ipv6: boolean;
        nodeGrace: number;
        agents: boolean;
        agentMain?: string;
        agentCaps?: string[];
        containerProcSys: boolean;
        agentArgs?: string;
        plugins?: string[];
        replace: boolean;
        masquerade: MasqueradeMode;
        netfilter: NetfilterTool;
        kubeProxy: KubeProxyMode;
        secondNic: boolean;
        kubeDns: boolean;
        kubeDnsNode?: string;
      },
    ) => {
      const lab = await Lab.up(name, {
        workers: o.workers,
        gateways: o.gateways,
        ipv6: o.ipv6,
        nodeGraceSeconds: o.nodeGrace,
        agents: o.agents,
        agent: {
          ...(o.agentMain ? { main: resolve(o.agentMain) } : {}),
          ...(o.agentCaps ? { capabilities: o.agentCaps } : {}),
          ...(o.containerProcSys ? { containerProcSys: true } : {}),
          ...(o.agentArgs ? { args: o.agentArgs.split(/\s+/).filter(Boolean) } : {}),
        },
        plugins: loadPlugins(o.plugins ?? defaultPluginNames()),
        replace: o.replace,
        ...(o.kubeDnsNode ? { kubeDns: { node: o.kubeDnsNode } } : o.kubeDns ? { kubeDns: true } : {}),
        network: { masquerade: o.masquerade, netfilter: o.netfilter, kubeProxy: o.kubeProxy, secondNic: o.secondNic },
      });
      lab.detach();
      print(await lab.info());
    },
  );

program
  .command('info <name>')
  .description('print the lab as JSON (nodes, pods, echo, lan, apiServer, kubeconfig)')
  .action(async (name: string) => {
    print(await (await Lab.open(name)).info());
  });

program
  .command('list')
  .description('names of labs with state in the state dir')
  .action(async () => {
    print(await readdir(labBaseDir()).catch(() => []));
  });

program
  .command('pod <name>')
  .description('create a pod (a Pod object, when the lab has an API server); prints its JSON once it is Ready with its IPs')
  .requiredOption('--namespace <ns>', 'pod namespace')
  .requiredOption('--name <pod>', 'pod name')
  .option('--labels <k=v,...>', 'pod labels', labelsArg, {})
  .option('--node <node>', 'node (default: the worker with fewest pods)')
  .action(async (name: string, o: { namespace: string; name: string; labels: Record<string, string>; node?: string }) => {
    const lab = await Lab.open(name);
    print(await lab.addPod({ namespace: o.namespace, name: o.name, labels: o.labels, ...(o.node ? { node: o.node } : {}) }));
  });

program
  .command('service <name>')
  .description("create a Service served by the lab's kube-proxy on every node (up --kube-proxy); prints it as JSON")
  .requiredOption('--namespace <ns>', 'service namespace')
  .requiredOption('--name <svc>', 'service name')
  .requiredOption('--backend <ns/pod>', 'the pod that answers (it runs the echo server)')
  .option('--type <type>', SERVICE_TYPES.join(', '), choiceArg(SERVICE_TYPES), 'ClusterIP')
  .option('--protocol <proto>', 'tcp or udp', choiceArg(['tcp', 'udp'] as const), 'tcp')
  .option('--port <port>', 'service port', intArg(1), 80)
  .option('--target-port <port>', 'backend port (default: the echo server port of the protocol)', intArg(1))
  .option('--external-ips <ips>', 'comma-separated spec.externalIPs (from info.serviceAddressRange)', list)
  .action(
    async (
      name: string,
      o: { namespace: string; name: string; backend: string; type: ServiceType; protocol: 'tcp' | 'udp'; port: number; targetPort?: number; externalIps?: string[] },
    ) => {
      const lab = await Lab.open(name);
      print(
        await lab.addService({
          namespace: o.namespace,
          name: o.name,
          backend: o.backend,
          type: o.type,
          protocol: o.protocol,
          port: o.port,
          ...(o.targetPort === undefined ? {} : { targetPort: o.targetPort }),
          ...(o.externalIps ? { externalIPs: o.externalIps } : {}),
        }),
      );
    },
  );

program
  .command('delete-pod <name> <ns/pod>')
  .description('delete a pod; returns once its namespace is gone')
  .action(async (name: string, ref: string) => (await Lab.open(name)).deletePod(ref));

program
  .command('exec <name> <ns/pod> <cmd...>')
  .description('run a command in a pod: exec NAME NS/POD -- CMD…')
  .passThroughOptions()
  .action(async (name: string, ref: string, cmd: string[]) => execIn(name, { pod: ref }, cmd));

program
  .command('node-exec <name> <node> <cmd...>')
  .description('run a command on a node (or on the lab hosts ext, control, lan, seg): node-exec NAME NODE -- CMD…')
  .passThroughOptions()
  .action(async (name: string, node: string, cmd: string[]) => {
    const hosts = ['ext', 'control', 'lan', 'seg'] as const;
    const host = hosts.find((h) => h === node);
    await execIn(name, host ? { host } : { node }, cmd);
  });

program
  .command('kubectl <name> [args...]')
  .description('run kubectl against the lab API server: kubectl NAME -- ARGS… (stdin and exit code pass through)')
  .passThroughOptions()
  .action(async (name: string, args: string[]) => {
    const cmd = kubectlCommand(await (await Lab.open(name)).state(), afterDashes(args));
    process.exitCode = await execAttached(cmd.netns, cmd.argv, cmd.env);
  });

program
  .command('fail-node <name> <node>')
  .description("cut the node's LAN link at the bridge (hard, no goodbye), then SIGKILL its agent; its heartbeat keeps trying and fails")
  .action(async (name: string, node: string) => (await Lab.open(name)).failNode(node));

program
  .command('heal-node <name> <node>')
  .description("restore the node's LAN link; returns once the node is Ready and its agent is ready")
  .action(async (name: string, node: string) => (await Lab.open(name)).healNode(node));

program
  .command('link-down <name> <node>')
  .description("set only the node's LAN link down at the bridge; its agent and heartbeat keep running (a flapping network)")
  .action(async (name: string, node: string) => (await Lab.open(name)).setLink(node, false));

program
  .command('link-up <name> <node>')
  .description("set the node's LAN link up again after link-down")
  .action(async (name: string, node: string) => (await Lab.open(name)).setLink(node, true));

program
  .command('partition <name> <node-a> <node-b>')
  .description('cut the LAN between two nodes (both ways); each still reaches every other host')
  .action(async (name: string, a: string, b: string) => (await Lab.open(name)).partition(a, b));

program
  .command('heal-partition <name> <node-a> <node-b>')
  .description('undo partition between the two nodes')
  .action(async (name: string, a: string, b: string) => (await Lab.open(name)).healPartition(a, b));

program
  .command('kill-agent <name> <node>')
  .description("SIGKILL the node's agent alone (the node stays Ready)")
  .action(async (name: string, node: string) => (await Lab.open(name)).killAgent(node));

program
  .command('stop-agent <name> <node>')
  .description("SIGTERM the node's agent, as the kubelet stops a pod; SIGKILL after the grace period")
  .option('--grace <seconds>', 'grace period before SIGKILL', secondsArg, 30)
  .action(async (name: string, node: string, o: { grace: number }) => (await Lab.open(name)).stopAgent(node, o.grace * 1000));

program
  .command('start-agent <name> <node>')
  .description("start the node's agent again; returns once it is ready")
  .action(async (name: string, node: string) => (await Lab.open(name)).startAgent(node));

program
  .command('udp-seq <name> <ns/pod>')
  .description('numbered UDP datagrams from the pod to the external host for a while; prints the largest gap the receiver saw, the loss and the sources')
  .option('--seconds <s>', 'how long to send (Ctrl-C stops early)', secondsArg, 10)
  .option('--rate <n>', 'datagrams a second', intArg(1), DEFAULT_RATE)
  .action(async (name: string, pod: string, o: { seconds: number; rate: number }) => {
    const flow = await UdpSeqFlow.start(await Lab.open(name), pod, { rate: o.rate, maxLifetimeS: lifetimeFor(o.seconds) });
    await measureFor(o.seconds, () => flow.stop());
  });

program
  .command('tcp-flows <name> <ns/pod>')
  .description('long-lived TCP connections from the pod to the external host, exchanging data; prints per connection resets and whether data flowed after --after')
  .option('--count <n>', 'connections', intArg(1), 20)
  .option('--seconds <s>', 'how long to run (Ctrl-C stops early)', secondsArg, 10)
  .option('--after <s>', 'the instant, in seconds from the start, after which data must flow (default: half of --seconds)', secondsArg)
  .action(async (name: string, pod: string, o: { count: number; seconds: number; after?: number }) => {
    const started = Date.now();
    const flows = await TcpFlows.start(await Lab.open(name), pod, { count: o.count, maxLifetimeS: lifetimeFor(o.seconds) });
    await measureFor(o.seconds, () => flows.stop(started + (o.after ?? o.seconds / 2) * 1000));
  });

program
  .command('arp-watch <name> <addr>')
  .description('from the external host, ask who-has ADDR periodically and record which MACs answer; prints the longest time two answered at once')
  .option('--seconds <s>', 'how long to watch (Ctrl-C stops early)', secondsArg, 10)
  .option('--interval-ms <ms>', 'time between requests', intArg(10), DEFAULT_ARP_INTERVAL_MS)
  .action(async (name: string, addr: string, o: { seconds: number; intervalMs: number }) => {
    const watch = await ArpWatch.start(await Lab.open(name), addr, { intervalMs: o.intervalMs, maxLifetimeS: lifetimeFor(o.seconds) });
    await measureFor(o.seconds, () => watch.stop());
  });

program
  .command('apiserver-down <name>')
  .description('the API server stops answering and drops its watches (objects stay; the lab stays up)')
  .action(async (name: string) => (await Lab.open(name)).apiServerDown());

program
  .command('apiserver-up <name>')
  .description('the API server answers again, with every object intact')
  .action(async (name: string) => (await Lab.open(name)).apiServerUp());

program
  .command('restart-agent <name> <node>')
  .description("restart the node's agent process (SIGTERM, start); returns once it is ready")
  .action(async (name: string, node: string) => (await Lab.open(name)).restartDaemon(agentRole(node)));

program
  .command('stop-daemon <name> <role>')
  .description('stop any recorded lab process by role (see info.daemons)')
  .action(async (name: string, role: string) => (await Lab.open(name)).stopDaemon(role));

program
  .command('start-daemon <name> <role>')
  .description('start a stopped lab process again')
  .action(async (name: string, role: string) => (await Lab.open(name)).startDaemon(role));

program
  .command('dns <name> <verb> [args...]')
  .description(
    "the external DNS server's answers: dns NAME set FQDN ADDR[,ADDR…] [--ttl S] [--rotate] [--per-answer N] | dns NAME set FQDN --cname TARGET | dns NAME del FQDN | dns NAME list",
  )
  .option('--ttl <seconds>', 'TTL of the answer (set)', intArg(0))
  .option('--rotate', 'round-robin: each answer starts one address further (set)', false)
  .option('--per-answer <n>', 'each answer carries only N of the addresses, as a CDN hands out a few of many (set)', intArg(1))
  .option('--cname <target>', 'answer with an alias of TARGET instead of addresses (set)')
  .action(async (name: string, verb: string, args: string[], o: { ttl?: number; rotate: boolean; cname?: string; perAnswer?: number }) => {
    const lab = await Lab.open(name);
    const [fqdn, addrs, ...extra] = args;
    const usage = (why: string) =>
      new InvalidArgumentError(`${why}; usage: dns NAME set FQDN ADDR[,ADDR…] [--ttl S] [--rotate] [--per-answer N] | set FQDN --cname TARGET | del FQDN | list`);
    if (verb === 'list') {
      if (args.length > 0) throw usage('list takes no arguments');
      print((await lab.dnsZone()).records);
    } else if (verb === 'set') {
      if (!fqdn || extra.length > 0 || (addrs === undefined) === (o.cname === undefined)) throw usage('set takes a name and either addresses or --cname');
      const record = await lab.setDns(fqdn, {
        ...(addrs === undefined ? {} : { addresses: list(addrs) }),
        ...(o.ttl === undefined ? {} : { ttl: o.ttl }),
        rotate: o.rotate,
        ...(o.cname === undefined ? {} : { cname: o.cname }),
        ...(o.perAnswer === undefined ? {} : { perAnswer: o.perAnswer }),
      });
      print({ [fqdn]: record });
    } else if (verb === 'del') {
      if (!fqdn || addrs !== undefined) throw usage('del takes one name');
      await lab.deleteDns(fqdn);
    } else {
      throw usage(`unknown verb ${JSON.stringify(verb)}`);
    }
  });

program
  .command('down <name>')
  .description('remove every namespace, veth and process of the lab (idempotent)')
  .option('--keep-logs', 'keep the logs directory', false)
  .action(async (name: string, o: { keepLogs: boolean }) => {
    const removed = await Lab.down(name, { keepLogs: o.keepLogs });
    process.stderr.write(`lab ${name}: removed ${removed.length} namespace(s)\n`);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`lab: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
