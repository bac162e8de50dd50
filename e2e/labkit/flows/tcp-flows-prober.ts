/**
 * The pod's side of N long-lived TCP connections, run in the pod's namespace:
 *   node tcp-flows-prober.js IP PORT N INTERVAL_MS
 * Each connection (to the echo service's stream port) sends a numbered line every INTERVAL_MS and
 * records, by this process's clock, when each line went out and when its answer came back. When
 * stdin closes it stops sending, waits up to 3 s for answers in flight and prints one JSON line per
 * connection ({"conn":i,...}, see TcpConnReport), then exits.
 */
import { connect, type Socket } from 'node:net';
import { createInterface } from 'node:readline';

const DRAIN_MS = 3_000;
const [ip, port, count, interval] = process.argv.slice(2);
if (!ip || !port || !(Number(count) >= 1) || !(Number(interval) > 0)) {
  process.stderr.write('usage: tcp-flows-prober IP PORT N INTERVAL_MS\n');
  process.exit(2);
}

interface Conn {
  sock: Socket;
  sentAt: number[];
  /** [line number, arrival time] of each answer. */
  answers: Array<[number, number]>;
  peers: Set<string>;
  connectedAt?: number;
  ended?: { why: string; code?: string; at: number };
}

const conns: Conn[] = [];
const timers: NodeJS.Timeout[] = [];
let stopping = false;

for (let i = 0; i < Number(count); i++) {
  const sock = connect({ host: ip, port: Number(port) });
  const c: Conn = { sock, sentAt: [], answers: [], peers: new Set() };
  conns.push(c);
  sock.setNoDelay(true);
  sock.on('connect', () => {
    c.connectedAt = Date.now();
    // Staggered, so the connections do not all send in the same turn.
    const t = setTimeout(
      () => {
        timers.push(
          setInterval(() => {
            if (c.ended || stopping) return;
            c.sentAt.push(Date.now());
            sock.write(`${c.sentAt.length}\n`);
          }, Number(interval)),
        );
      },
      (i * Number(interval)) / Number(count),
    );
    timers.push(t);
  });
  const lines = createInterface({ input: sock });
  // The socket's own error handler records the error; readline re-emits it.
  lines.on('error', () => undefined);
  lines.on('line', (text) => {
    try {
      const r = JSON.parse(text) as { clientIP?: string; clientPort?: number; line?: string };
      c.answers.push([Number(r.line), Date.now()]);
      c.peers.add(`${r.clientIP}:${r.clientPort}`);
    } catch {
      c.ended ??= { why: `not a JSON line: ${text.slice(0, 80)}`, at: Date.now() };
    }
    if (stopping && allAnswered()) finish();
  });
  sock.on('error', (err: NodeJS.ErrnoException) => (c.ended ??= { why: err.message, ...(err.code ? { code: err.code } : {}), at: Date.now() }));
  sock.on('close', () => (c.ended ??= { why: 'closed by the peer', at: Date.now() }));
}

function allAnswered(): boolean {
  return conns.every((c) => c.ended || c.answers.length >= c.sentAt.length);
}

let finished = false;
function finish(): void {
  if (finished) return;
  finished = true;
  for (const t of timers) clearInterval(t);
  conns.forEach((c, conn) => {
    process.stdout.write(JSON.stringify({ conn, connectedAt: c.connectedAt ?? null, sentAt: c.sentAt, answers: c.answers, peers: [...c.peers], ended: c.ended ?? null }) + '\n');
  });
  for (const c of conns) c.sock.destroy();
  process.exit(0);
}

process.stdin.on('end', () => {
  stopping = true;
  if (allAnswered()) finish();
  setTimeout(finish, DRAIN_MS);
});
process.stdin.resume();
