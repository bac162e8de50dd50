/**
 * The sending side of a UDP sequence flow, run in a pod's namespace:
 *   node udp-seq-sender.js IP PORT RATE
 * One socket (one flow for conntrack and NAT), RATE numbered datagrams a second, the payload
 * `SEQ:` and the number in ten digits. It keeps to the rate by the clock: after a stall it sends
 * what was due at once, so a stall of the sender shows up as a gap without loss. Send errors (no
 * route, an ICMP error from the last datagram) are counted, not fatal. When stdin closes it prints
 * {"sent":N,"sendErrors":N,"maxStallMs":N,"startedAt":EPOCH_MS} (when the first datagram was due)
 * and exits.
 */
import { createSocket } from 'node:dgram';
import { SEQ_PREFIX, SEQ_DIGITS } from './udp-seq-format.js';

const [ip, port, rate] = process.argv.slice(2);
if (!ip || !port || !rate || !(Number(rate) > 0)) {
  process.stderr.write('usage: udp-seq-sender IP PORT RATE\n');
  process.exit(2);
}
const perMs = Number(rate) / 1000;
/** At most this many datagrams in one turn, so a long stall does not become one huge burst. */
const MAX_BURST = 200;

let sent = 0;
let sendErrors = 0;
let maxStallMs = 0;
const sock = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
sock.on('error', () => void sendErrors++);
sock.connect(Number(port), ip, () => {
  const start = performance.now();
  const startedAt = performance.timeOrigin + start;
  let last = start;
  const tick = () => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
    const due = Math.floor((now - start) * perMs);
    for (let burst = 0; sent < due && burst < MAX_BURST; burst++) {
      sent++;
      sock.send(SEQ_PREFIX + String(sent).padStart(SEQ_DIGITS, '0'), (err) => {
        if (err) sendErrors++;
      });
    }
  };
  const timer = setInterval(tick, 1);
  process.stdin.on('end', () => {
    clearInterval(timer);
    process.stdout.write(JSON.stringify({ sent, sendErrors, maxStallMs: Math.round(maxStallMs), startedAt }) + '\n');
    sock.close();
  });
  process.stdin.resume();
});
