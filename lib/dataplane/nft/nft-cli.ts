import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { EgressError } from '../../errors.js';
import type { NftBackend, NftRunOptions, NftRunResult } from './nft-backend.js';
import { Serial } from '../../serial.js';

// A 100k-element table loads in well under a second; anything near this is a hung nft.
const TIMEOUT_MS = 60_000;

/**
 * Fallback when libnftables is not loadable: one `nft [-j] -f FILE` process per batch, the same
 * JSON the library is given. The batch goes through a temporary file, not stdin: nft 1.0.6 could
 * not read Node's piped stdin.
 */
export class NftCliBackend implements NftBackend {
  readonly kind = 'cli';
  readonly #nft: string;
  readonly #serial = new Serial();
  #closed = false;

  constructor(nftPath = 'nft') {
    this.#nft = nftPath;
  }

  run(commands: string, options: NftRunOptions = {}): Promise<NftRunResult> {
    return this.#serial.run(async () => {
      if (this.#closed) throw new EgressError('EGW_ERR_NFT', 'nft CLI backend used after close()');
      const dir = await mkdtemp(join(tmpdir(), 'sluice-nft-'));
      try {
        const file = join(dir, 'batch.nft');
        await writeFile(file, commands.endsWith('\n') ? commands : `${commands}\n`);
        const args = [...(options.json ? ['-j'] : []), ...(options.terse ? ['-t'] : []), ...(options.dryRun ? ['-c'] : []), '-f', file];
        const r = await execa(this.#nft, args, { reject: false, stripFinalNewline: false, timeout: TIMEOUT_MS });
        if (r.failed && r.exitCode === undefined) {
          throw new EgressError('EGW_ERR_NFT', `running ${this.#nft}: ${r.message}`, { cause: r });
        }
        // nft names the file in its messages; the path is a throwaway, so point at the batch instead.
        const error = r.stderr.replaceAll(`${file}:`, 'batch:');
        return { ok: r.exitCode === 0, output: r.stdout, error };
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  }

  close(): void {
    this.#closed = true;
  }
}
