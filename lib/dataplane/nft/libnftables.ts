import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { EgressError } from '../../errors.js';
import type { NftBackend, NftRunOptions, NftRunResult } from './nft-backend.js';
import { Serial } from '../../serial.js';
import { loadMallocTrim, type TrimMalloc } from './malloc-trim.js';

export const LIBNFTABLES_SONAME = 'libnftables.so.1';

// Output flags from nftables/libnftables.h (enum nft_ctx_output_flags); stable ABI since 0.9.
const NFT_CTX_DEFAULT = 0;
const NFT_CTX_OUTPUT_JSON = 1 << 4;
const NFT_CTX_OUTPUT_TERSE = 1 << 11;

// Above this size a batch runs on a koffi worker thread by default: a 100k-element table keeps
// libnftables busy for hundreds of ms, which must not stall the agent's event loop (probes,
// /metrics). Smaller batches run inline, where the thread hop would cost more than the call.
const DEFAULT_ASYNC_MIN_BYTES = 64 * 1024;

export interface LibnftablesOptions {
  /** Library to load; default the Debian soname. */
  readonly path?: string;
  /**
   * Batches at least this long (bytes), and listings, run on a worker thread; shorter batches
   * inline. `Infinity` runs everything inline. Worker-thread calls allocate from a glibc
   * per-thread arena that is trimmed after each call, which cost up to ~40% more CPU on big
   * batches here unless the process runs with MALLOC_ARENA_MAX=1 (bench/dataplane/nft-apply.ts).
   */
  readonly asyncMinBytes?: number;
}

type Ctx = bigint;

interface Bindings {
  ctxNew(flags: number): Ctx | null;
  ctxFree(ctx: Ctx): void;
  bufferOutput(ctx: Ctx): number;
  bufferError(ctx: Ctx): number;
  setOutputFlags(ctx: Ctx, flags: number): void;
  runSync(ctx: Ctx, buf: Buffer): number;
  runAsync(ctx: Ctx, buf: Buffer): Promise<number>;
  runFileAsync(ctx: Ctx, path: string): Promise<number>;
  setDryRun(ctx: Ctx, dry: boolean): void;
  outputBuffer(ctx: Ctx): string | null;
  errorBuffer(ctx: Ctx): string | null;
}

function bind(path: string): Bindings {
  const lib = koffi.load(path);
  // The command buffer is passed as bytes we NUL-terminate ourselves, so koffi neither copies a
  // multi-megabyte string per call nor needs it to fit its async scratch heap.
  const run = lib.func('int nft_run_cmd_from_buffer(void *ctx, const uint8_t *buf)');
  const runFile = lib.func('int nft_run_cmd_from_filename(void *ctx, const char *filename)');
  return {
    ctxNew: lib.func('void *nft_ctx_new(uint32_t flags)'),
    ctxFree: lib.func('void nft_ctx_free(void *ctx)'),
    bufferOutput: lib.func('int nft_ctx_buffer_output(void *ctx)'),
    bufferError: lib.func('int nft_ctx_buffer_error(void *ctx)'),
    setOutputFlags: lib.func('void nft_ctx_output_set_flags(void *ctx, unsigned int flags)'),
    runSync: run,
    runAsync: (ctx, buf) =>
      new Promise((resolve, reject) => {
        run.async(ctx, buf, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)));
      }),
    runFileAsync: (ctx, path) =>
      new Promise((resolve, reject) => {
        runFile.async(ctx, path, (err: unknown, rc: number) => (err ? reject(err) : resolve(rc)));
      }),
    setDryRun: lib.func('void nft_ctx_set_dry_run(void *ctx, bool dry)'),
    outputBuffer: lib.func('const char *nft_ctx_get_output_buffer(void *ctx)'),
    errorBuffer: lib.func('const char *nft_ctx_get_error_buffer(void *ctx)'),
  };
}

/**
 * One long-lived libnftables context with buffered output and error. Calls are serialized: the
 * context is not thread-safe, and output/error buffers belong to the call that just ran.
 */
export class LibnftablesBackend implements NftBackend {
  readonly kind = 'libnftables';
  readonly #lib: Bindings;
  readonly #serial = new Serial();
  readonly #asyncMinBytes: number;
  readonly #trimMalloc: TrimMalloc = loadMallocTrim();
  #ctx: Ctx | undefined;

  /** Throws EGW_ERR_NFT when the library cannot be loaded or a context cannot be created. */
  constructor(options: LibnftablesOptions = {}) {
    const path = options.path ?? LIBNFTABLES_SONAME;
    this.#asyncMinBytes = options.asyncMinBytes ?? DEFAULT_ASYNC_MIN_BYTES;
    try {
      this.#lib = bind(path);
    } catch (err) {
      throw new EgressError('EGW_ERR_NFT', `loading ${path}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    const ctx = this.#lib.ctxNew(NFT_CTX_DEFAULT);
    if (ctx === null || ctx === 0n) throw new EgressError('EGW_ERR_NFT', 'nft_ctx_new returned NULL');
    if (this.#lib.bufferOutput(ctx) !== 0 || this.#lib.bufferError(ctx) !== 0) {
      this.#lib.ctxFree(ctx);
      throw new EgressError('EGW_ERR_NFT', 'libnftables could not buffer its output');
    }
    this.#ctx = ctx;
  }

  run(commands: string, options: NftRunOptions = {}): Promise<NftRunResult> {
    return this.#serial.run(async () => {
      const ctx = this.#ctx;
      if (ctx === undefined) throw new EgressError('EGW_ERR_NFT', 'libnftables context used after close()');
      const flags = (options.json ? NFT_CTX_OUTPUT_JSON : 0) | (options.terse ? NFT_CTX_OUTPUT_TERSE : 0);
      this.#lib.setOutputFlags(ctx, flags);
      if (options.dryRun) return this.#check(ctx, commands);
      const buf = Buffer.from(`${commands}\0`, 'utf8');
      const offThread = this.#asyncMinBytes !== Infinity && (options.listing === true || buf.length >= this.#asyncMinBytes);
      let rc: number;
      try {
        rc = offThread ? await this.#lib.runAsync(ctx, buf) : this.#lib.runSync(ctx, buf);
      } catch (err) {
        throw new EgressError('EGW_ERR_NFT', `calling nft_run_cmd_from_buffer: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      // Reading the buffers also resets them for the next call.
      const output = this.#lib.outputBuffer(ctx) ?? '';
      const error = this.#lib.errorBuffer(ctx) ?? '';
      // what a big batch or a listing allocated is free now, but still resident
      if (offThread) await this.#trimMalloc();
      return { ok: rc === 0, output, error };
    });
  }

  /**
   * A dry run (what `nft -c` does: the kernel validates the batch, nothing commits), read from a
   * file: libnftables 1.0.6 quotes the FIRST line of a buffer under every error, while a file
   * gives `batch:LINE:COL` and the real line.
   */
  async #check(ctx: Ctx, commands: string): Promise<NftRunResult> {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-nft-'));
    try {
      const file = join(dir, 'batch.nft');
      await writeFile(file, commands);
      this.#lib.setDryRun(ctx, true);
      let rc: number;
      try {
        rc = await this.#lib.runFileAsync(ctx, file);
      } catch (err) {
        throw new EgressError('EGW_ERR_NFT', `calling nft_run_cmd_from_filename: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      const output = this.#lib.outputBuffer(ctx) ?? '';
      const error = (this.#lib.errorBuffer(ctx) ?? '').replaceAll(`${file}:`, 'batch:');
      return { ok: rc === 0, output, error };
    } finally {
      this.#lib.setDryRun(ctx, false);
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  close(): void {
    const ctx = this.#ctx;
    if (ctx === undefined) return;
    this.#ctx = undefined;
    // After any call still queued: freeing under a running worker-thread call would be a use-after-free.
    void this.#serial.run(async () => this.#lib.ctxFree(ctx));
  }
}
