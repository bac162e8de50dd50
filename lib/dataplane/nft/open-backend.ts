import { errorMessage } from '../../errors.js';
import { LibnftablesBackend, LIBNFTABLES_SONAME } from './libnftables.js';
import type { NftBackend } from './nft-backend.js';
import { NftCliBackend } from './nft-cli.js';
import { NftDriver } from './nft-driver.js';
import type { NftLogger } from './nft-types.js';

/** libnftables when it loads; otherwise the nft CLI, said once in the log. */
export function openNftBackend(log: NftLogger, path: string = LIBNFTABLES_SONAME): NftBackend {
  try {
    return new LibnftablesBackend({ path });
  } catch (err) {
    log.warn({ op: 'nft-open', lib: path, err: errorMessage(err) }, 'libnftables not loadable; falling back to the nft CLI (slower, one process per batch)');
    return new NftCliBackend();
  }
}

/** A driver for `inet <table>` on the best backend available. */
export function openNftDriver(options: { table: string; log: NftLogger; backend?: NftBackend }): NftDriver {
  return new NftDriver({ table: options.table, log: options.log, backend: options.backend ?? openNftBackend(options.log) });
}
