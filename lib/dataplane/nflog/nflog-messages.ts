/** The messages between the agent's thread (denial-reader.ts) and the reading thread (nflog-worker.ts). */
import type { LoggedPacket } from './nflog-wire.js';

export interface NflogWorkerData {
  readonly group: number;
  /** Packets parsed and passed on per second on average, and at once; the rest are only counted. */
  readonly linesPerSecond: number;
  readonly burst: number;
}

export type FromNflogWorker =
  | { readonly type: 'bound' }
  /** The group could not be bound (another reader has it: EBUSY), or the socket failed. */
  | { readonly type: 'failed'; readonly message: string }
  | {
      readonly type: 'batch';
      readonly packets: readonly LoggedPacket[];
      /** Logged packets over the budget: counted, not parsed. */
      readonly suppressed: number;
      /** Times the socket's receive buffer was full and the kernel dropped packets (how many is unknown). */
      readonly overflows: number;
    };

export type ToNflogWorker = { readonly type: 'stop' };
