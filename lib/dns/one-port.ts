import type dgram from 'node:dgram';
import type net from 'node:net';

/** How often a kernel-chosen port is tried again when TCP finds the UDP port's number taken. */
const TRIES = 8;

/**
 * A UDP socket and a TCP server on one port, as DNS needs. With port 0 the kernel picks the UDP
 * port, and that number may be in TCP use already (any outgoing connection's ephemeral port):
 * then both are made again with another pick, up to TRIES times. A given port that is taken is
 * an error at once. Nothing stays bound when it rejects.
 */
export async function listenOnOnePort(
  host: string,
  port: number,
  make: { readonly udp: () => dgram.Socket; readonly tcp: () => net.Server; readonly ipv6Only?: boolean },
): Promise<{ udp: dgram.Socket; tcp: net.Server }> {
  for (let attempt = 1; ; attempt++) {
    const udp = make.udp();
    await new Promise<void>((resolve, reject) => {
      udp.once('error', (err) => {
        udp.close();
        reject(err);
      });
      udp.bind(port, host, () => {
        udp.removeAllListeners('error');
        resolve();
      });
    });
    const tcp = make.tcp();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: udp.address().port, host, ...(make.ipv6Only !== undefined ? { ipv6Only: make.ipv6Only } : {}) }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp };
    } catch (err) {
      udp.close();
      if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= TRIES) throw err;
    }
  }
}
