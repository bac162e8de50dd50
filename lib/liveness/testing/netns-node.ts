/**
 * One node's prober, run inside a lab namespace (`ip netns exec NS node netns-node.js ...`), since
 * a Node process cannot switch namespaces itself. Prints one JSON line (a NodeLine) per change of
 * its view; closes and exits on SIGTERM, and by itself after --max-ms (a bound if the test dies).
 *
 * Args: --node NAME --address IP [--address IP] --peer NAME=IP ... --port N --interval-ms N
 *       --misses N --hold-down-ms N --max-ms N
 */
import { parseArgs } from 'node:util';
import { Prober } from '../prober.js';

export interface NodeLine {
  readonly at: number;
  readonly isolated: boolean;
  readonly peers: Record<string, { readonly heard: boolean; readonly alive: boolean; readonly healthy: boolean }>;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      node: { type: 'string' },
      address: { type: 'string', multiple: true, default: [] },
      peer: { type: 'string', multiple: true, default: [] },
      port: { type: 'string', default: '7473' },
      'interval-ms': { type: 'string', default: '100' },
      misses: { type: 'string', default: '3' },
      'hold-down-ms': { type: 'string', default: '5000' },
      'max-ms': { type: 'string', default: '60000' },
    },
  });
  if (values.node === undefined) throw new Error('need --node');
  const prober = await Prober.start({
    node: values.node,
    addresses: values.address,
    port: Number(values.port),
    intervalMs: Number(values['interval-ms']),
    misses: Number(values.misses),
    holdDownMs: Number(values['hold-down-ms']),
  });
  prober.onChange((view) => {
    const peers = Object.fromEntries([...view.peers].map(([node, p]) => [node, { heard: p.heard, alive: p.alive, healthy: p.healthy }]));
    const line: NodeLine = { at: Date.now(), isolated: view.isolated, peers };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  });
  const problems = prober.setPeers(values.peer.map((spec) => ({ node: spec.split('=')[0]!, address: spec.split('=')[1] ?? '' })));
  if (problems.length > 0) throw new Error(`peers refused: ${JSON.stringify(problems)}`);
  process.stderr.write(`probing from ${prober.stats().bound.join(', ')}\n`);
  const stop = () => void prober.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  setTimeout(stop, Number(values['max-ms'])).unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
