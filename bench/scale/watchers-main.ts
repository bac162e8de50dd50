/**
 * The simulated nodes of bench/scale: for each, the watches a non-leader agent holds (every kind
 * of ours, its own Node, the Nodes each gateway selects), opened from the current resourceVersion.
 * Events are counted, not parsed: the cost under test is the API server's fan-out.
 *
 *   node watchers-main.js --server URL --first I --count N --gateway-selector egress=a ...
 *
 * Runs as a forked child: sends {ready} once every watch is open and {summary} when told {stop}.
 */
import http from 'node:http';
import { KINDS } from '../../lib/api/group.js';
import { resourcePath } from '../../lib/kube/resource.js';
import { RESOURCES } from '../../lib/cluster/kinds.js';
import { nodeName } from './cluster-model.js';

interface Args {
  server: URL;
  first: number;
  count: number;
  selectors: string[];
}

function parseArgs(argv: string[]): Args {
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const selectors: string[] = [];
  argv.forEach((a, i) => a === '--gateway-selector' && argv[i + 1] && selectors.push(argv[i + 1]!));
  return { server: new URL(get('--server') ?? ''), first: Number(get('--first') ?? 0), count: Number(get('--count') ?? 0), selectors };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
let events = 0;
let bytes = 0;
let reconnects = 0;
let stopping = false;
const open = new Set<http.ClientRequest>();

function watch(server: URL, path: string, query: string, rv: string, onOpen: () => void): void {
  let lastRv = rv;
  let answered = false;
  const req = http.get(
    { host: server.hostname, port: server.port, path: `${path}?watch=true&resourceVersion=${lastRv}${query}`, agent, headers: { 'User-Agent': 'sluice-bench-watcher' } },
    (res) => {
      answered = true;
      onOpen();
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) events++;
        const m = /"resourceVersion":"(\d+)"[^\n]*\n?$/.exec(chunk.toString('latin1', Math.max(0, chunk.length - 4096)));
        if (m) lastRv = m[1]!;
      });
      res.on('error', () => undefined);
      res.on('end', () => {
        open.delete(req);
        if (!stopping) {
          reconnects++;
          watch(server, path, query, lastRv, () => {});
        }
      });
    },
  );
  // refused or reset (a loaded server): try again, so every watch is open before `ready`
  req.on('error', () => {
    open.delete(req);
    if (stopping) return;
    reconnects++;
    setTimeout(() => watch(server, path, query, lastRv, answered ? () => {} : onOpen), 1000);
  });
  open.add(req);
}

async function currentRv(server: URL): Promise<string> {
  const r = await fetch(new URL('/api/v1/namespaces?limit=1', server));
  return ((await r.json()) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const rv = await currentRv(args.server);
  const sets: { path: string; query: string }[] = [];
  for (let n = args.first; n < args.first + args.count; n++) {
    for (const kind of KINDS) sets.push({ path: resourcePath(RESOURCES[kind]), query: '' });
    sets.push({ path: resourcePath(RESOURCES.Node), query: `&fieldSelector=${encodeURIComponent(`metadata.name=${nodeName(n)}`)}` });
    for (const s of args.selectors) sets.push({ path: resourcePath(RESOURCES.Node), query: `&labelSelector=${encodeURIComponent(s)}` });
  }
  let opened = 0;
  await new Promise<void>((resolve) => {
    // a few hundred at a time: the API server is one process too
    let next = 0;
    const more = () => {
      while (next < sets.length && next - opened < 200) {
        const s = sets[next++]!;
        watch(args.server, s.path, s.query, rv, () => {
          opened++;
          if (opened === sets.length) resolve();
          else more();
        });
      }
    };
    more();
  });
  process.send?.({ ready: { watches: sets.length } });
  const started = performance.now();
  const at0 = { events, bytes };
  process.on('message', (m: { stop?: boolean; mark?: boolean }) => {
    if (m.mark) {
      at0.events = events;
      at0.bytes = bytes;
      return;
    }
    if (!m.stop) return;
    stopping = true;
    process.send?.(
      { summary: { watches: sets.length, events: events - at0.events, mib: (bytes - at0.bytes) / 1048576, reconnects, seconds: (performance.now() - started) / 1000 } },
      () => {
        for (const req of open) req.destroy();
        agent.destroy();
        process.exit(0);
      },
    );
  });
}

await main();
