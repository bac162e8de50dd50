/**
 * `make demo`: a simulated cluster in network namespaces (one worker, two gateway nodes, an API
 * server, real sluice agents), seed 002's example applied with kubectl, the visitor pod leaving
 * with the EIP, then a hard failure of the gateway node carrying it and the EIP moving over, with
 * the failover time measured where the traffic arrives: the longest silence of a stream of
 * datagrams from the pod, at the external host. The node grace is Kubernetes' default (40 s), so
 * the move is the agents' own (their UDP probes), not the API server's.
 */
import { spawn, spawnSync, type ChildProcess, type SpawnSyncOptions } from 'node:child_process';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const LAB_CLI = join(REPO, 'e2e', 'lab');
const LAB = `demo-${process.pid}`;
const NODE_GRACE_SECONDS = 40;
const UDP_GAP = join(REPO, 'dist', 'e2e', 'demo', 'udp-gap.js');
/** The port the measuring receiver listens on at the external host, and the pod's rate. */
const GAP_PORT = 9111;
const PER_SECOND = 200;
const bold = (s: string) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
const started = Date.now();

function elapsed(): string {
  return `${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s`;
}

function step(text: string): void {
  process.stdout.write(`\n${bold(`[${elapsed()}] ${text}`)}\n`);
}

function lab(args: string[], opts: { input?: string; show?: boolean; allowFail?: boolean; timeoutMs?: number } = {}): string {
  if (opts.show !== false) process.stdout.write(`$ e2e/lab ${args.join(' ')}${opts.input ? ' <<EOF' : ''}\n`);
  if (opts.input && opts.show !== false) process.stdout.write(`${opts.input.trimEnd()}\nEOF\n`);
  const spawnOpts: SpawnSyncOptions = { encoding: 'utf8', timeout: opts.timeoutMs ?? 90_000, input: opts.input ?? '', maxBuffer: 16 << 20 };
  const r = spawnSync(LAB_CLI, args, spawnOpts);
  const out = String(r.stdout ?? '');
  if (r.status !== 0 && !opts.allowFail) {
    const why = r.error ? r.error.message : `exit ${r.status ?? r.signal}`;
    throw new Error(`e2e/lab ${args.join(' ')} failed (${why}): ${String(r.stderr ?? '').trim() || out.trim()}`);
  }
  return out;
}

function kubectl(args: string[], opts: { input?: string; show?: boolean; allowFail?: boolean } = {}): string {
  return lab(['kubectl', LAB, '--', ...args], opts);
}

function show(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** A background process in a lab namespace; it stops when its stdin closes. */
function inNetns(netns: string, argv: string[]): { child: ChildProcess; lines: string[]; line: () => Promise<string> } {
  const child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...argv], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout! }).on('line', (l) => {
    const w = waiting.shift();
    if (w) w(l);
    else lines.push(l);
  });
  return { child, lines, line: () => (lines.length ? Promise.resolve(lines.shift()!) : new Promise((resolve) => waiting.push(resolve))) };
}

interface Echo {
  clientIP: string;
}

function curlEcho(echoIp: string, port: number): Echo | undefined {
  const out = lab(['exec', LAB, 'default/visitor', '--', 'curl', '-s', '--max-time', '1', `http://${echoIp}:${port}/`], { show: false, allowFail: true, timeoutMs: 5000 });
  try {
    return JSON.parse(out.trim()) as Echo;
  } catch {
    return undefined;
  }
}

function policyStatus(): { eip: string; node: string } {
  const out = kubectl(['get', 'egresspolicy', 'test', '-n', 'default', '-o', 'jsonpath={.status.eip.ipv4} {.status.node}'], { show: false, allowFail: true });
  const [eip = '', node = ''] = out.trim().split(' ');
  return { eip, node };
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => T | undefined): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

let tornDown = false;
function teardown(): void {
  if (tornDown) return;
  tornDown = true;
  step('Tearing the lab down');
  lab(['down', LAB], { allowFail: true });
}

process.once('SIGINT', () => {
  teardown();
  process.exit(130);
});
process.once('SIGTERM', () => {
  teardown();
  process.exit(143);
});

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error('the demo builds network namespaces: run it as root');
  step('Building a cluster in network namespaces: 1 worker, 2 gateway nodes, an API server, a sluice agent per node');
  const info = JSON.parse(lab(['up', LAB, '--workers', '1', '--gateways', '2', '--node-grace', String(NODE_GRACE_SECONDS)], { timeoutMs: 120_000 })) as {
    nodes: { name: string; role: string; ips: string[] }[];
    echo: { ipv4: string; httpPort: number };
    lan: { eipRangeV4: string };
  };
  for (const n of info.nodes) show(`  ${n.name.padEnd(10)} ${n.role.padEnd(8)} ${n.ips.join(' ')}`);
  show(`  external echo service http://${info.echo.ipv4}:${info.echo.httpPort}/ (answers with the source IP it saw)`);
  const gateways = info.nodes.filter((n) => n.role === 'gateway').map((n) => n.name);
  const [first] = info.lan.eipRangeV4.split('-');
  const base = first!.split('.').slice(0, 3).join('.');
  const lastOctet = Number(first!.split('.')[3]);
  const pool = `${first}-${base}.${lastOctet + 9}`;
  const defaultEip = `${base}.${lastOctet + 5}`;

  step('Labelling the gateway nodes and creating the EgressGateway');
  kubectl(['label', 'node', ...gateways, 'egress=true', '--overwrite']);
  kubectl(['apply', '-f', '-'], {
    input: `apiVersion: egress.sluice.dev/v1alpha1
kind: EgressGateway
metadata:
  name: default
spec:
  nodeSelector:
    selector:
      matchLabels:
        egress: "true"
  ippools:
    ipv4: ["${pool}"]
    ipv4DefaultEIP: ${defaultEip}
`,
  });

  step('Starting the visitor pod on the worker');
  lab(['pod', LAB, '--namespace', 'default', '--name', 'visitor', '--labels', 'app=visitor', '--node', info.nodes.find((n) => n.role === 'worker')!.name], { show: true });
  const before = curlEcho(info.echo.ipv4, info.echo.httpPort);
  show(`  before any policy the echo service sees ${before?.clientIP ?? '(no answer)'} (the worker's node IP)`);

  step("Applying seed 002's EgressPolicy, exactly as the documentation shows it");
  kubectl(['apply', '-f', '-'], {
    input: `apiVersion: egress.sluice.dev/v1alpha1
kind: EgressPolicy
metadata:
  name: test
  namespace: default
spec:
  egressGatewayName: default
  appliedTo:
    podSelector:
      matchLabels:
        app: "visitor"
`,
  });
  const assigned = await waitFor('the policy status', 30_000, () => {
    const s = policyStatus();
    return s.eip && s.node ? s : undefined;
  });
  show(kubectl(['get', 'egresspolicy', '-A']));
  show(kubectl(['get', 'egressendpointslices', '-A']));

  step('The visitor pod calls the external service');
  const seen = await waitFor(`the echo service to see ${assigned.eip}`, 20_000, () => {
    const e = curlEcho(info.echo.ipv4, info.echo.httpPort);
    return e?.clientIP === assigned.eip ? e : undefined;
  });
  show(`$ e2e/lab exec ${LAB} default/visitor -- curl -s http://${info.echo.ipv4}:${info.echo.httpPort}/`);
  show(JSON.stringify(seen));
  show(`  → the pod leaves as the egress IP ${assigned.eip}, through ${assigned.node}`);

  const other = gateways.find((g) => g !== assigned.node)!;
  step(`The visitor sends ${PER_SECOND} datagrams a second to the external host, which notes when each arrives`);
  const full = JSON.parse(lab(['info', LAB], { show: false })) as { echo: { netns: string }; pods: { namespace: string; name: string; netns: string }[] };
  const receiver = inNetns(full.echo.netns, [UDP_GAP, 'receive', String(GAP_PORT)]);
  await receiver.line();
  const visitorNetns = full.pods.find((p) => p.namespace === 'default' && p.name === 'visitor')!.netns;
  const sender = inNetns(visitorNetns, [UDP_GAP, 'send', info.echo.ipv4, String(GAP_PORT), String(PER_SECOND)]);
  await new Promise((r) => setTimeout(r, 1_000));

  step(`Failing ${assigned.node} hard (link cut, agent killed, no goodbye); the node grace is ${NODE_GRACE_SECONDS}s`);
  const failedAt = Date.now();
  lab(['fail-node', LAB, assigned.node]);
  await waitFor(`the visitor to leave as ${assigned.eip} again`, 30_000, () => (curlEcho(info.echo.ipv4, info.echo.httpPort)?.clientIP === assigned.eip ? true : undefined));
  const backMs = Date.now() - failedAt;
  await new Promise((r) => setTimeout(r, 1_000));
  sender.child.stdin!.end();
  receiver.child.stdin!.end();
  const gap = JSON.parse(await receiver.line()) as { received: number; longestGapMs: number; gapEndedAt: number; sources: string[] };
  show(kubectl(['get', 'nodes']));
  show(kubectl(['get', 'egresspolicy', '-A']));
  show(
    `  → failover time ${gap.longestGapMs} ms: the longest silence the external host saw in the visitor's datagrams (${gap.received} received, all from ${gap.sources.join(', ')})`,
  );
  show(`    traffic leaves as ${assigned.eip} again through ${other}; a new connection worked ${(backMs / 1000).toFixed(1)}s after the failure`);
  show(`    ${assigned.node} is still Ready for the API server: the agents' UDP probes (3 × 100 ms) found it dead, every node computed`);
  show('    the same successor, which added the EIP and sent gratuitous ARP; the controller writes status afterwards');

  step(`Healing ${assigned.node}`);
  lab(['heal-node', LAB, assigned.node], { timeoutMs: 120_000 });
  const after = await waitFor('traffic to keep the EIP after the heal', 30_000, () => {
    const e = curlEcho(info.echo.ipv4, info.echo.httpPort);
    return e?.clientIP === assigned.eip ? e : undefined;
  });
  show(`  the visitor still leaves as ${after.clientIP} (carried by ${policyStatus().node})`);
  step(`Done in ${elapsed().trim()}`);
}

main()
  .catch((err: unknown) => {
    process.stderr.write(`\ndemo failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(teardown);
