import type { Exec } from './iproute/exec.js';
import { processReads } from './iproute/process-reads.js';
import type { KernelReads } from './iproute/rows.js';
import { rtnetlinkReads } from './rtnetlink/rtnetlink-reads.js';

/**
 * How the iproute2 subsystems read the kernel: `reads` when given; else through `exec` when one
 * is given (it stands for `ip` and `bridge`, a kernel of the caller's making); else over the
 * process's rtnetlink socket.
 */
export function kernelReads(options: { readonly reads?: KernelReads; readonly exec?: Exec }): KernelReads {
  return options.reads ?? (options.exec ? processReads(options.exec) : rtnetlinkReads());
}
