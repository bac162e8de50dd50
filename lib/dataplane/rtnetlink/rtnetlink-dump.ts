import { EgressError } from '../../errors.js';
import { NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST, netlinkRequest, walkMessages } from '../netlink/netlink-message.js';
import { NETLINK_ROUTE, NetlinkSocket } from '../netlink/netlink-socket.js';

/** A dump the kernel saw change while it ran is read again, up to this many times in all. */
const DUMP_TRIES = 3;
/** An acknowledgement: nlmsghdr + nlmsgerr, which echoes the request (an address's is small). */
const ACK_BYTES = 4096;

/** One data message of a dump: its type and the bytes after nlmsghdr (valid only during the callback). */
export type OnMessage = (msgType: number, body: Buffer) => void;

/**
 * A persistent rtnetlink socket for dumps (links, addresses, routes, rules, neighbours), for
 * gets of one object (a link by name or index) and for small writes (an EIP's address). Opened on
 * first use in the process's network namespace and kept for the life of the process, so an
 * observe costs a few system calls and no process start-up.
 */
export class Rtnetlink {
  #socket: NetlinkSocket | undefined;
  #seq = Math.floor(Date.now() / 1000) >>> 0;

  /**
   * Sends RTM_GET* `msgType` with NLM_F_DUMP and `header` (the family's fixed header), handing
   * each answer message to `onMessage`. A dump marked interrupted is read again from the start
   * (`onMessage` sees the first attempt's messages too: `restart` is called before each retry).
   * Throws EGW_ERR_NETLINK.
   */
  dump(msgType: number, header: Buffer, onMessage: OnMessage, restart: () => void, attrs: readonly Buffer[] = []): void {
    for (let attempt = 1; ; attempt++) {
      const seq = (this.#seq = (this.#seq + 1) >>> 0);
      let interrupted = false;
      let errno: number | undefined;
      try {
        this.#open().request(netlinkRequest(msgType, NLM_F_REQUEST | NLM_F_DUMP, seq, header, attrs), (datagram) => {
          const walked = walkMessages(datagram, seq, 'EGW_ERR_NETLINK', onMessage);
          interrupted ||= walked.interrupted === true;
          errno = walked.errno;
          return walked.done;
        });
      } catch (err) {
        // The rest of a dump given up on would still arrive: the next read starts on a new socket.
        this.close();
        throw err;
      }
      if (errno !== undefined) throw new EgressError('EGW_ERR_NETLINK', `rtnetlink dump of message type ${msgType} failed: errno ${errno}`);
      if (!interrupted || attempt >= DUMP_TRIES) return;
      restart();
    }
  }

  /**
   * Sends RTM_GET* `msgType` for one object (no dump), named by `header` and `attrs`, handing its
   * answer to `onMessage`. Returns the errno the kernel refused it with (ENODEV: no such link),
   * undefined when it answered. Throws EGW_ERR_NETLINK.
   */
  get(msgType: number, header: Buffer, onMessage: OnMessage, attrs: readonly Buffer[] = []): number | undefined {
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    let errno: number | undefined;
    try {
      this.#open().request(netlinkRequest(msgType, NLM_F_REQUEST, seq, header, attrs), (datagram) => {
        let answered = false;
        const walked = walkMessages(datagram, seq, 'EGW_ERR_NETLINK', (type, body) => {
          answered = true;
          onMessage(type, body);
        });
        errno = walked.errno;
        return walked.done || answered;
      });
    } catch (err) {
      this.close();
      throw err;
    }
    return errno;
  }

  /**
   * Sends one change (RTM_NEW*, RTM_DEL*) with `flags` (NLM_F_CREATE, NLM_F_EXCL…) and waits for
   * the kernel's acknowledgement. Returns the errno the kernel refused it with, undefined when it
   * made the change. Throws EGW_ERR_NETLINK when the socket fails.
   */
  write(msgType: number, flags: number, header: Buffer, attrs: readonly Buffer[]): number | undefined {
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    let errno: number | undefined;
    try {
      this.#open().request(
        netlinkRequest(msgType, NLM_F_REQUEST | NLM_F_ACK | flags, seq, header, attrs),
        (datagram) => {
          const walked = walkMessages(datagram, seq, 'EGW_ERR_NETLINK', () => undefined);
          errno = walked.errno;
          return walked.done;
        },
        ACK_BYTES,
      );
    } catch (err) {
      this.close();
      throw err;
    }
    return errno;
  }

  close(): void {
    this.#socket?.close();
    this.#socket = undefined;
  }

  #open(): NetlinkSocket {
    this.#socket ??= new NetlinkSocket(NETLINK_ROUTE, 'rtnetlink', 'EGW_ERR_NETLINK');
    return this.#socket;
  }
}

let processWide: Rtnetlink | undefined;

/** The process's own socket, shared by every reader and writer that is given none. */
export const processRtnetlink = (): Rtnetlink => (processWide ??= new Rtnetlink());
