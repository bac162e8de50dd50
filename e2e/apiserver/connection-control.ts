/**
 * The fault hook behind pause()/resume(): "refuse" closes the listening socket and resets every connection
 * (what clients see when the API server process dies); "hang" keeps accepting connections but never answers
 * (a network partition). Both cut every running watch. resume() brings the same port back.
 */
import type { Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type PauseMode = 'refuse' | 'hang';

export class ConnectionControl {
  private readonly sockets = new Set<Socket>();
  private readonly streams = new Set<ServerResponse>();
  private readonly held = new Set<ServerResponse>();
  private state: 'up' | PauseMode = 'up';

  constructor(
    private readonly server: Server,
    private readonly listenAddress: () => { host: string; port: number },
  ) {
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
  }

  get mode(): 'up' | PauseMode {
    return this.state;
  }

  trackStream(response: ServerResponse): void {
    this.streams.add(response);
    response.on('close', () => this.streams.delete(response));
  }

  /** In hang mode requests are parked here instead of being answered. Returns true when parked. */
  holdIfHanging(response: ServerResponse): boolean {
    if (this.state !== 'hang') return false;
    this.held.add(response);
    response.on('close', () => this.held.delete(response));
    return true;
  }

  async pause(mode: PauseMode = 'refuse'): Promise<void> {
    if (this.state !== 'up') return;
    this.state = mode;
    for (const stream of this.streams) stream.socket?.destroy();
    this.streams.clear();
    if (mode === 'refuse') {
      const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      for (const socket of this.sockets) socket.destroy();
      await closed;
    }
  }

  async resume(): Promise<void> {
    if (this.state === 'up') return;
    const previous = this.state;
    this.state = 'up';
    for (const response of this.held) response.socket?.destroy();
    this.held.clear();
    if (previous === 'refuse') {
      const { host, port } = this.listenAddress();
      await new Promise<void>((resolve, reject) => {
        this.server.once('error', reject);
        this.server.listen(port, host, () => {
          this.server.off('error', reject);
          resolve();
        });
      });
    }
  }

  destroyAll(): void {
    for (const socket of this.sockets) socket.destroy();
  }
}
