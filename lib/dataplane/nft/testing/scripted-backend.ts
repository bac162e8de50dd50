import type { NftBackend, NftRunOptions, NftRunResult } from '../nft-backend.js';

export interface ScriptedCall {
  readonly commands: string;
  readonly options: NftRunOptions;
}

/** A backend that answers from a function and records every call, for tests without a kernel. */
export class ScriptedBackend implements NftBackend {
  readonly kind = 'libnftables';
  readonly calls: ScriptedCall[] = [];
  answer: (commands: string, options: NftRunOptions) => NftRunResult;

  constructor(answer: (commands: string, options: NftRunOptions) => NftRunResult) {
    this.answer = answer;
  }

  async run(commands: string, options: NftRunOptions = {}): Promise<NftRunResult> {
    this.calls.push({ commands, options });
    return this.answer(commands, options);
  }

  /** Calls that were not listings (what would have written to the kernel). */
  get writes(): ScriptedCall[] {
    return this.calls.filter((c) => !c.commands.startsWith('list '));
  }

  close(): void {}
}

export const OK: NftRunResult = { ok: true, output: '', error: '' };
export const NO_TABLE: NftRunResult = { ok: false, output: '', error: 'Error: No such file or directory\nlist table inet sluice\n' };
