/**
 * The demo's measure of a failover, at the receiver: run in a namespace with `ip netns exec`,
 *   node udp-gap.js send IP PORT PER_SECOND   (in the pod: numbered datagrams until stdin closes)
 *   node udp-gap.js receive PORT              (on the external host: until stdin closes)
 * The receiver prints one JSON line when stdin closes: datagrams received, the longest silence
 * between two of them (ms, by its own clock) and when it ended, and the source addresses seen.
 */
import { createSocket } from 'node:dgram';

const [mode, ...args] = process.argv.slice(2);
const onStdinEnd = (fn: () => void) => {
  process.stdin.on('end', fn);
  process.stdin.resume();
};

if (mode === 'send' && args.length === 3) {
  const [ip, port, rate] = args as [string, string, string];
  const sock = createSocket(ip.includes(':') ? 'udp6' : 'udp4');
  let seq = 0;
  const timer = setInterval(() => sock.send(String(++seq), Number(port), ip), Math.max(1, Math.round(1000 / Number(rate))));
  onStdinEnd(() => {
    clearInterval(timer);
    sock.close();
  });
} else if (mode === 'receive' && args.length === 1) {
  const sock = createSocket('udp4');
  let received = 0;
  let last: number | undefined;
  let longestGapMs = 0;
  let gapEndedAt = 0;
  const sources = new Set<string>();
  sock.on('message', (_msg, from) => {
    const now = Date.now();
    received++;
    sources.add(from.address);
    if (last !== undefined && now - last > longestGapMs) [longestGapMs, gapEndedAt] = [now - last, now];
    last = now;
  });
  sock.bind(Number(args[0]), () => process.stdout.write(`${JSON.stringify({ listening: Number(args[0]) })}\n`));
  onStdinEnd(() => {
    process.stdout.write(`${JSON.stringify({ received, longestGapMs, gapEndedAt, sources: [...sources] })}\n`);
    sock.close();
  });
} else {
  process.stderr.write('usage: udp-gap send IP PORT PER_SECOND | udp-gap receive PORT\n');
  process.exit(2);
}
