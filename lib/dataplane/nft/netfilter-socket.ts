import { endianness } from 'node:os';
import koffi from 'koffi';
import { EgressError } from '../../errors.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_NETFILTER = 12;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVTIMEO = 20;
const EAGAIN = 11;
const EINTR = 4;
const ENOBUFS = 105;
const MSG_TRUNC = 0x20;
const RECV_BYTES = 256 * 1024;
// The kernel answers a dump at once; this only bounds a wedged socket.
const RECV_TIMEOUT_S = 2;

interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Buffer, len: number): number;
  sendto(fd: number, buf: Buffer, len: number, flags: number, addr: Buffer, addrlen: number): number;
  recv(fd: number, buf: Buffer, len: number, flags: number): number;
  close(fd: number): number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const uint8_t *value, uint32_t len)'),
    sendto: lib.func('long sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)'),
    recv: lib.func('long recv(int fd, uint8_t *buf, size_t len, int flags)'),
    close: lib.func('int close(int fd)'),
  };
  return libc;
}

function timeval(seconds: number): Buffer {
  const t = Buffer.alloc(16); // struct timeval
  t.writeBigInt64LE(BigInt(Math.floor(seconds)), 0);
  t.writeBigInt64LE(BigInt(Math.round((seconds % 1) * 1e6)), 8);
  return t;
}

const fail = (what: string): never => {
  throw new EgressError('EGW_ERR_NFT', `netfilter netlink ${what} failed: errno ${koffi.errno()}`);
};

/**
 * Sends one netfilter netlink request and hands every answer datagram to `onDatagram` until it
 * returns true. A fresh socket per call, in the caller's network namespace; blocking calls,
 * which a dump answers in well under a millisecond. `recvBytes`: the largest datagram expected
 * (a dump's; acknowledgements of a write need far less).
 */
export function netfilterRequest(request: Buffer, onDatagram: (datagram: Buffer) => boolean, recvBytes = RECV_BYTES): void {
  // Message headers are host-endian and nfnetlink-rules.ts writes them little-endian.
  if (endianness() !== 'LE') throw new EgressError('EGW_ERR_NFT', 'netfilter netlink parsing supports little-endian hosts only');
  const c = loadLibc();
  const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) fail('socket');
  try {
    const timeout = timeval(RECV_TIMEOUT_S);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) < 0) fail('setsockopt');
    const kernel = Buffer.alloc(12); // struct sockaddr_nl, pid 0 = the kernel
    kernel.writeUInt16LE(AF_NETLINK, 0);
    if (c.sendto(fd, request, request.length, 0, kernel, kernel.length) !== request.length) fail('sendto');
    const buf = Buffer.allocUnsafe(recvBytes);
    for (;;) {
      const n = c.recv(fd, buf, buf.length, MSG_TRUNC);
      if (n < 0) fail('recv');
      if (n > buf.length) throw new EgressError('EGW_ERR_NFT', `netfilter netlink datagram of ${n} bytes exceeds ${buf.length}`);
      if (onDatagram(buf.subarray(0, n))) return;
    }
  } finally {
    c.close(fd);
  }
}

/** What one receive on a long-lived socket gave: a datagram's length, nothing within the timeout, or lost datagrams. */
export type Received = number | 'timeout' | 'overflow';

/**
 * A long-lived netfilter netlink socket in the calling thread's network namespace, for a
 * subscriber that reads what the kernel sends (nfnetlink_log). Blocking calls: run it in a
 * worker thread. The receive buffer bounds what waits in the kernel; when it is full the kernel
 * drops, and the next receive reports `overflow`.
 */
export class NetfilterSocket {
  readonly #fd: number;
  #closed = false;

  constructor(options: { readonly receiveBufferBytes: number; readonly receiveTimeoutSeconds: number }) {
    if (endianness() !== 'LE') throw new EgressError('EGW_ERR_NFT', 'netfilter netlink parsing supports little-endian hosts only');
    const c = loadLibc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
    if (fd < 0) fail('socket');
    this.#fd = fd;
    try {
      const size = Buffer.alloc(4);
      size.writeInt32LE(options.receiveBufferBytes, 0);
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, size, size.length) < 0) fail('setsockopt SO_RCVBUF');
      const timeout = timeval(options.receiveTimeoutSeconds);
      if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) < 0) fail('setsockopt SO_RCVTIMEO');
    } catch (err) {
      c.close(fd);
      throw err;
    }
  }

  /** Sends one request to the kernel. */
  send(request: Buffer): void {
    const kernel = Buffer.alloc(12); // struct sockaddr_nl, pid 0 = the kernel
    kernel.writeUInt16LE(AF_NETLINK, 0);
    if (loadLibc().sendto(this.#fd, request, request.length, 0, kernel, kernel.length) !== request.length) fail('sendto');
  }

  /** Waits up to the receive timeout for one datagram into `buf` (a longer one is cut to its size). */
  receive(buf: Buffer): Received {
    const n = loadLibc().recv(this.#fd, buf, buf.length, 0);
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno === EAGAIN || errno === EINTR) return 'timeout';
    if (errno === ENOBUFS) return 'overflow';
    return fail('recv');
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    loadLibc().close(this.#fd);
  }
}
