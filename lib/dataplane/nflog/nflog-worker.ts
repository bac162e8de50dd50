/**
 * The reading thread: binds an nfnetlink_log group and reads it with blocking receives, so the
 * agent's event loop never waits on the socket. Its cost is bounded whatever arrives: packets
 * over the line budget are counted without being parsed, and while the budget is spent the thread
 * sleeps and leaves packets in the kernel, whose receive buffer (fixed size) then drops them.
 */
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import { NETLINK_NETFILTER, NetlinkSocket } from '../netlink/netlink-socket.js';
import { LineBudget } from './line-budget.js';
import type { FromNflogWorker, NflogWorkerData, ToNflogWorker } from './nflog-messages.js';
import { bindGroupRequest, parseLoggedPacket, walkLogDatagram, type LoggedPacket } from './nflog-wire.js';

const port = parentPort;
if (port === null) throw new Error('nflog-worker.js runs as a worker thread');
const config = workerData as NflogWorkerData;

const RECEIVE_BUFFER_BYTES = 256 * 1024;
/** Receives return at least this often, so a stop is seen. */
const RECEIVE_TIMEOUT_S = 0.25;
/** Packets go to the agent's thread at most this often (or when this many wait). */
const POST_EVERY_MS = 200;
const POST_AT = 64;
const BIND_SEQ = 1;

let stopping = false;
port.on('message', (m: ToNflogWorker) => {
  if (m.type === 'stop') stopping = true;
});

const post = (m: FromNflogWorker) => port.postMessage(m);
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const sleep = (ms: number) => Atomics.wait(sleeper, 0, 0, ms);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

function bind(socket: NetlinkSocket, buf: Buffer): void {
  socket.send(bindGroupRequest(config.group, BIND_SEQ));
  const deadline = performance.now() + 2000;
  while (performance.now() < deadline) {
    const n = socket.receive(buf);
    if (typeof n !== 'number') continue;
    const errno = walkLogDatagram(buf.subarray(0, n), BIND_SEQ, () => {});
    if (errno === undefined) continue;
    if (errno !== 0) throw new Error(`binding nfnetlink_log group ${config.group} failed: errno ${errno}${errno === 16 ? ' (another reader has the group)' : ''}`);
    return;
  }
  throw new Error(`binding nfnetlink_log group ${config.group}: no answer`);
}

async function run(): Promise<void> {
  const socket = new NetlinkSocket(NETLINK_NETFILTER, 'nfnetlink_log', 'EGW_ERR_NFT');
  try {
    socket.subscribe({ receiveBufferBytes: RECEIVE_BUFFER_BYTES, receiveTimeoutSeconds: RECEIVE_TIMEOUT_S });
    const buf = Buffer.allocUnsafe(RECEIVE_BUFFER_BYTES);
    bind(socket, buf);
    post({ type: 'bound' });
    const budget = new LineBudget(config.linesPerSecond, config.burst, performance.now());
    let packets: LoggedPacket[] = [];
    let suppressed = 0;
    let overflows = 0;
    let postedAt = performance.now();
    while (!stopping) {
      const n = socket.receive(buf);
      if (n === 'overflow') overflows++;
      else if (n !== 'timeout') {
        const now = performance.now();
        walkLogDatagram(buf.subarray(0, n), BIND_SEQ, (family, attrs) => {
          if (budget.take(now)) packets.push(parseLoggedPacket(family, attrs));
          else suppressed++;
        });
      }
      const now = performance.now();
      if (packets.length >= POST_AT || ((packets.length > 0 || suppressed > 0 || overflows > 0) && now - postedAt >= POST_EVERY_MS)) {
        post({ type: 'batch', packets, suppressed, overflows });
        packets = [];
        suppressed = overflows = 0;
        postedAt = now;
      }
      // Budget spent: sleep rather than read what would only be counted.
      const wait = budget.waitMs(now);
      if (wait > 0) sleep(Math.min(wait, POST_EVERY_MS));
      await turn();
    }
  } finally {
    socket.close();
  }
}

run().catch((err: unknown) => post({ type: 'failed', message: errorMessage(err) }));
