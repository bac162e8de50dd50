/**
 * The pod's side of a live flow, run inside the pod's namespace:
 *   node flow-prober.js tcp|udp IP PORT INTERVAL_MS
 * tcp keeps one connection to the echo service's stream port, udp one socket to its UDP port (one
 * flow, one conntrack entry, one SNAT mapping). It sends a numbered line (a datagram) every
 * INTERVAL_MS and prints each answer with the time it arrived, by its own clock: a busy test
 * process cannot delay the traffic or show up as a gap. When stdin closes it stops sending, waits
 * up to 3 s for answers still in flight, prints {"sent":N} and exits. If the flow breaks it prints
 * {"broke":"why","sent":N} and exits 1.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { createInterface } from 'node:readline';

const DRAIN_MS = 3_000;
const [proto, ip, port, interval] = process.argv.slice(2);
if ((proto !== 'tcp' && proto !== 'udp') || !ip || !port || !interval) {
  process.stderr.write('usage: flow-prober tcp|udp IP PORT INTERVAL_MS\n');
  process.exit(2);
}

const emit = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n');
let sent = 0;
let answered = 0;
let stopping = false;
const onAnswer = (text: string) => {
  answered++;
  emit({ at: Date.now(), reply: JSON.parse(text) as unknown });
  if (stopping && answered >= sent) finish();
};
const broke = (why: string) => {
  emit({ broke: why, sent });
  process.exit(1);
};
function finish(): void {
  emit({ sent });
  process.exit(0);
}

function start(send: (line: string) => void): void {
  const timer = setInterval(() => send(String(++sent)), Number(interval));
  process.stdin.on('end', () => {
    clearInterval(timer);
    stopping = true;
    if (answered >= sent) finish();
    setTimeout(finish, DRAIN_MS);
  });
  process.stdin.resume();
}

if (proto === 'tcp') {
  const sock = connect({ host: ip, port: Number(port) }, () => start((line) => void sock.write(`${line}\n`)));
  sock.setNoDelay(true);
  createInterface({ input: sock }).on('line', onAnswer);
  sock.on('error', (err) => broke(err.message));
  sock.on('close', () => broke('the connection closed'));
} else {
  const sock = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  sock.on('message', (msg) => onAnswer(msg.toString('utf8').trim()));
  sock.on('error', (err) => broke(err.message));
  sock.connect(Number(port), ip, () => start((line) => sock.send(line)));
}
