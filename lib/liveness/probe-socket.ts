/** The UDP socket a prober sends and receives on, behind a small interface tests can wrap. */
import dgram from 'node:dgram';
import net from 'node:net';

export interface ProbeSocket {
  /** Resolves when the datagram was handed to the kernel; rejects with the send error. */
  send(data: Uint8Array, address: string, port: number): Promise<void>;
  close(): void;
}

interface ProbeSocketHandlers {
  message(data: Buffer, from: { readonly address: string; readonly port: number }): void;
  /** The socket failed after it was bound; it is no longer usable. */
  error(err: Error): void;
}

/** Binds a socket to one local address and port; rejects when it cannot (EADDRNOTAVAIL, EADDRINUSE, …). */
export type OpenProbeSocket = (address: string, port: number, handlers: ProbeSocketHandlers) => Promise<ProbeSocket>;

export const openUdpProbeSocket: OpenProbeSocket = (address, port, handlers) =>
  new Promise((resolve, reject) => {
    const v6 = net.isIPv6(address);
    const udp = dgram.createSocket({ type: v6 ? 'udp6' : 'udp4', ipv6Only: v6, reuseAddr: false });
    let bound = false;
    udp.on('error', (err) => {
      if (!bound) {
        udp.close();
        reject(err);
        return;
      }
      handlers.error(err);
    });
    udp.on('message', (data, rinfo) => handlers.message(data, { address: rinfo.address, port: rinfo.port }));
    udp.bind({ address, port, exclusive: true }, () => {
      bound = true;
      resolve({
        send: (data, to, toPort) =>
          new Promise<void>((done, fail) => {
            udp.send(data, toPort, to, (err) => (err ? fail(err) : done()));
          }),
        close: () => {
          try {
            udp.close();
          } catch {
            // Already closed after an error.
          }
        },
      });
    });
  });
