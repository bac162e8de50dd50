import type { Logger } from 'pino';
import { Dataplane } from '../lib/dataplane/dataplane.js';
import { openNftDriver } from '../lib/dataplane/nft/open-backend.js';
import type { NftDriver } from '../lib/dataplane/nft/nft-driver.js';
import { Announcer } from '../lib/dataplane/announcer/index.js';
import { SysctlJournal } from '../lib/dataplane/sysctl-journal.js';
import { EipClaims } from '../lib/dataplane/eip-claims.js';
import { duplicateAddressProbe } from '../lib/dataplane/announcer/duplicate-probe.js';
import type { AgentConfig } from '../lib/planner/config.js';

export interface LocalDataplane {
  readonly dataplane: Dataplane;
  readonly nft: NftDriver;
  readonly announcer?: Announcer;
  close(): Promise<void>;
}

/** The drivers for this host's kernel, wired as the agent uses them. */
export interface LocalDataplaneOptions {
  readonly announce?: boolean;
  readonly onAnnounced?: (family: 4 | 6) => void;
  /** Where /proc/sys is writable; default /proc/sys. */
  readonly sysctlRoot?: string;
  /** Where the sysctl journal is kept (the agent's --state-dir); without it nothing is recorded. */
  readonly stateDir?: string;
  /** Probe the LAN before an EIP is first taken (duplicate address detection, lib/dataplane/eip-claims.ts). */
  readonly probeEips?: boolean;
}

export function openLocalDataplane(config: AgentConfig, log: Logger, options: LocalDataplaneOptions = {}): LocalDataplane {
  const nft = openNftDriver({ table: config.nftTable, log: log.child({ subsystem: 'nft' }) });
  const announcer = options.announce
    ? new Announcer({
        onAttempt: (event) => {
          if (event.outcome.kind === 'sent') options.onAnnounced?.(event.family);
        },
      })
    : undefined;
  const dataplane = new Dataplane({
    config,
    nft,
    ...(announcer ? { announcer } : {}),
    ...(options.sysctlRoot ? { sysctlRoot: options.sysctlRoot } : {}),
    ...(options.stateDir ? { sysctlJournal: new SysctlJournal(options.stateDir) } : {}),
    ...(options.probeEips ? { claims: new EipClaims({ probe: duplicateAddressProbe() }) } : {}),
  });
  return {
    dataplane,
    nft,
    ...(announcer ? { announcer } : {}),
    close: async () => {
      await announcer?.close();
      nft.close();
    },
  };
}
