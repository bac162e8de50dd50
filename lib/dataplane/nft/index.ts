export { NftDriver, type CountedRule, type KernelReads, type NftDriverOptions } from './nft-driver.js';
export { openNftBackend, openNftDriver } from './open-backend.js';
export { LibnftablesBackend, LIBNFTABLES_SONAME, type LibnftablesOptions } from './libnftables.js';
export { NftCliBackend } from './nft-cli.js';
export type { NftBackend, NftRunOptions, NftRunResult } from './nft-backend.js';
export type {
  NftApplyOptions,
  NftApplyResult,
  NftCounter,
  NftLogger,
  NftRemoveResult,
  ObservedChain,
  ObservedNft,
  ObservedRule,
  ObservedSet,
  ReplaceReason,
} from './nft-types.js';
