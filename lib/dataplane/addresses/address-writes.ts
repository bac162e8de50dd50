import { constants } from 'node:os';
import { errorMessage } from '../../errors.js';
import { runBatch } from '../iproute/batch.js';
import type { Exec } from '../iproute/exec.js';
import { errnoName } from '../netlink/netlink-message.js';
import { processRtnetlink } from '../rtnetlink/rtnetlink-dump.js';
import { writeAddress } from '../rtnetlink/rtnetlink-addresses.js';
import { addressCommand } from './address-commands.js';
import { hostPrefix, type AddressOp } from './address-ops.js';

/** Why one change was not made. */
export interface WriteFailure {
  readonly message: string;
  /** A delete of an address that is not there. */
  readonly absent: boolean;
}

/** Makes the changes in order; one outcome per change: undefined when made. */
export type AddressWrites = (ops: readonly AddressOp[]) => Promise<(WriteFailure | undefined)[]>;

/** One `ip -batch` process for all the changes (with a caller's `exec`: a kernel of its making). */
export function batchAddressWrites(exec: Exec, tag: number): AddressWrites {
  return async (ops) => {
    const commands = ops.map((op) => addressCommand(op, tag));
    const result = await runBatch(exec, 'ip', commands);
    const failed = new Map(result.failures.map((f) => [f.command, f.message]));
    return commands.map((command) => {
      const message = failed.get(command);
      // EADDRNOTAVAIL, as iproute2 words it: IPv4 by strerror, IPv6 by the kernel's extended ack
      return message === undefined ? undefined : { message, absent: /Cannot assign requested address|address not found/.test(message) };
    });
  };
}

/**
 * Over the process's rtnetlink socket, one acknowledged message per change: no process start-up
 * on the way of an EIP taken over (see rtnetlink-addresses.ts).
 */
export function rtnetlinkAddressWrites(tag: number): AddressWrites {
  return async (ops) =>
    ops.map((op) => {
      const a = op.address;
      const prefixlen = op.kind === 'add' ? hostPrefix(a.family) : op.address.prefixlen;
      try {
        const errno = writeAddress(processRtnetlink(), { kind: op.kind, ip: a.ip, family: a.family, prefixlen, ifname: a.ifname }, tag);
        return errno === undefined ? undefined : { message: `the kernel refused it: ${errnoName(errno)}`, absent: op.kind === 'del' && errno === constants.errno.EADDRNOTAVAIL };
      } catch (err) {
        return { message: errorMessage(err), absent: false };
      }
    });
}
