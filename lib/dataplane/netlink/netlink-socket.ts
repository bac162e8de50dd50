import { endianness } from 'node:os';
import koffi from 'koffi';
import { EgressError, type ErrorCode } from '../../errors.js';

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_RCVTIMEO = 20;
const EINTR = 4;
const EAGAIN = 11;
const ENOBUFS = 105;
const MSG_TRUNC = 0x20;
const RECV_BYTES = 256 * 1024;
// The kernel answers a dump at once; this only bounds a wedged socket.
const RECV_TIMEOUT_S = 2;

export const NETLINK_ROUTE = 0;
export const NETLINK_NETFILTER = 12;

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

/** What one receive gave: a datagram's length, nothing within the timeout, or datagrams the kernel dropped. */
export type Received = number | 'timeout' | 'overflow';

function timeval(seconds: number): Buffer {
  const t = Buffer.alloc(16); // struct timeval
  t.writeBigInt64LE(BigInt(Math.floor(seconds)), 0);
  t.writeBigInt64LE(BigInt(Math.round((seconds % 1) * 1e6)), 8);
  return t;
}

/**
 * A netlink socket of one protocol, opened in the network namespace of the calling process (a
 * process that must work in another namespace is started in it: `ip netns exec`). Calls block;
 * the kernel answers a dump of a node's links or routes in well under a millisecond, far less
 * than starting a process. Messages are host-endian and the parsers read them little-endian, so
 * big-endian hosts are refused.
 */
export class NetlinkSocket {
  readonly #fd: number;
  readonly #what: string;
  readonly #code: ErrorCode;
  #recv: Buffer | undefined;
  #closed = false;

  /** `what` names the protocol in errors (`netfilter netlink`); `code` is the error code they carry. */
  constructor(protocol: number, what: string, code: ErrorCode) {
    this.#what = what;
    this.#code = code;
    if (endianness() !== 'LE') throw new EgressError(code, `${what} parsing supports little-endian hosts only`);
    const c = loadLibc();
    const fd = c.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol);
    if (fd < 0) this.#fail('socket');
    this.#fd = fd;
    const timeout = timeval(RECV_TIMEOUT_S);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) < 0) {
      c.close(fd);
      this.#fail('setsockopt');
    }
  }

  /**
   * For a socket that reads what the kernel sends on its own (nfnetlink_log): the receive buffer,
   * which bounds what waits in the kernel (when it is full the kernel drops, and the next receive
   * says `overflow`), and how long a receive waits.
   */
  subscribe(options: { readonly receiveBufferBytes: number; readonly receiveTimeoutSeconds: number }): void {
    const c = loadLibc();
    const size = Buffer.alloc(4);
    size.writeInt32LE(options.receiveBufferBytes, 0);
    if (c.setsockopt(this.#fd, SOL_SOCKET, SO_RCVBUF, size, size.length) < 0) this.#fail('setsockopt SO_RCVBUF');
    const timeout = timeval(options.receiveTimeoutSeconds);
    if (c.setsockopt(this.#fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length) < 0) this.#fail('setsockopt SO_RCVTIMEO');
  }

  /** Sends one message to the kernel without waiting for an answer. */
  send(message: Buffer): void {
    const kernel = Buffer.alloc(12); // struct sockaddr_nl, pid 0 = the kernel
    kernel.writeUInt16LE(AF_NETLINK, 0);
    if (loadLibc().sendto(this.#fd, message, message.length, 0, kernel, kernel.length) !== message.length) this.#fail('sendto');
  }

  /** Waits up to the receive timeout for one datagram into `buf` (a longer one is cut to its size). */
  receive(buf: Buffer): Received {
    const n = loadLibc().recv(this.#fd, buf, buf.length, 0);
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno === EAGAIN || errno === EINTR) return 'timeout';
    if (errno === ENOBUFS) return 'overflow';
    return this.#fail('recv');
  }

  /**
   * Sends one request and hands every answer datagram to `onDatagram` until it returns true.
   * `recvBytes`: the largest datagram expected (a dump's; acknowledgements of a write need far
   * less). Answers to an earlier request that gave up are the caller's to skip (by sequence number).
   */
  request(request: Buffer, onDatagram: (datagram: Buffer) => boolean, recvBytes = RECV_BYTES): void {
    if (this.#closed) throw new EgressError(this.#code, `${this.#what} socket used after close()`);
    const c = loadLibc();
    const kernel = Buffer.alloc(12); // struct sockaddr_nl, pid 0 = the kernel
    kernel.writeUInt16LE(AF_NETLINK, 0);
    if (c.sendto(this.#fd, request, request.length, 0, kernel, kernel.length) !== request.length) this.#fail('sendto');
    const buf = this.#buffer(recvBytes);
    for (;;) {
      const n = c.recv(this.#fd, buf, buf.length, MSG_TRUNC);
      if (n < 0) this.#fail('recv');
      if (n > buf.length) throw new EgressError(this.#code, `${this.#what} datagram of ${n} bytes exceeds ${buf.length}`);
      if (onDatagram(buf.subarray(0, n))) return;
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    loadLibc().close(this.#fd);
  }

  /** One receive buffer per socket, reused: a dump's datagrams are parsed before the next recv. */
  #buffer(bytes: number): Buffer {
    if (!this.#recv || this.#recv.length < bytes) this.#recv = Buffer.allocUnsafe(bytes);
    return this.#recv.length === bytes ? this.#recv : this.#recv.subarray(0, bytes);
  }

  #fail(what: string): never {
    throw new EgressError(this.#code, `${this.#what} ${what} failed: errno ${koffi.errno()}`);
  }
}
