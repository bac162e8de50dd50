import { NETLINK_NETFILTER, NetlinkSocket } from '../netlink/netlink-socket.js';

/**
 * Sends one netfilter netlink request and hands every answer datagram to `onDatagram` until it
 * returns true. A fresh socket per call, in the caller's network namespace: the writes and reads
 * here are rare, and a socket of their own keeps a late answer from reaching the next request.
 * `recvBytes`: the largest datagram expected (a dump's; acknowledgements of a write need far less).
 */
export function netfilterRequest(request: Buffer, onDatagram: (datagram: Buffer) => boolean, recvBytes?: number): void {
  const socket = new NetlinkSocket(NETLINK_NETFILTER, 'netfilter netlink', 'EGW_ERR_NFT');
  try {
    socket.request(request, onDatagram, recvBytes);
  } finally {
    socket.close();
  }
}
