/** How a batch of nft commands reaches the kernel: libnftables in-process, or the nft CLI. */
export interface NftRunOptions {
  /** Print listings as libnftables JSON instead of nft syntax. */
  readonly json?: boolean;
  /** Leave set elements out of listings (`nft -t`). nft 1.0.6 still fetches them from the kernel. */
  readonly terse?: boolean;
  /** A listing: its cost grows with the table, not with the command, so never run it inline. */
  readonly listing?: boolean;
  /**
   * Check only (`nft -c`): parsed, evaluated and validated by the kernel, never committed. Text
   * is read as a file, so errors carry `batch:LINE:COL` and quote the failing line.
   */
  readonly dryRun?: boolean;
}

export interface NftRunResult {
  readonly ok: boolean;
  /** What a list command printed. */
  readonly output: string;
  /** nft's error text (with the caret lines pointing at the failing token); warnings on success. */
  readonly error: string;
}

export interface NftBackend {
  readonly kind: 'libnftables' | 'cli';
  /**
   * Runs `commands` (libnftables JSON with `json`, else nft syntax) as ONE netlink batch: all of
   * it commits, or none of it does. Never throws for nft's own errors; they come back in the
   * result.
   */
  run(commands: string, options?: NftRunOptions): Promise<NftRunResult>;
  /** Idempotent. */
  close(): void;
}
