/**
 * Root only: the nft driver against the kernel. Every scenario runs in a network namespace of
 * its own (random per-run prefix), as a child process inside it; the namespaces are deleted
 * whatever happens. The root namespace's nftables are never read or written.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { execa } from 'execa';
import { NFT_CASES } from './testing/nft-cases.js';

const RUN_CASE = fileURLToPath(new URL('./testing/run-case.js', import.meta.url));
const PREFIX = `sl-nft-${randomBytes(3).toString('hex')}`;
const BACKENDS = ['libnftables', 'cli'] as const;

async function skipReason(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, nftables); run as root to include it';
  for (const cmd of [
    ['ip', '-V'],
    ['nft', '--version'],
  ] as const) {
    const r = await execa(cmd[0], [cmd[1]], { reject: false });
    if (r.exitCode !== 0) return `needs ${cmd[0]} on PATH (apt-get install iproute2 nftables)`;
  }
  return undefined;
}

const skip = await skipReason();
const created = new Set<string>();

async function deleteNetns(ns: string): Promise<void> {
  await execa('ip', ['netns', 'delete', ns], { reject: false });
  created.delete(ns);
}

after(async () => {
  for (const ns of [...created]) await deleteNetns(ns);
});

let serial = 0;
for (const backend of BACKENDS) {
  describe(`nft driver (${backend}) in a network namespace`, { skip }, () => {
    for (const name of Object.keys(NFT_CASES)) {
      test(name, { timeout: 120_000 }, async () => {
        const ns = `${PREFIX}-${++serial}`;
        await execa('ip', ['netns', 'add', ns]);
        created.add(ns);
        try {
          const r = await execa('ip', ['netns', 'exec', ns, process.execPath, RUN_CASE, name, backend], { reject: false, timeout: 110_000 });
          assert.equal(r.exitCode, 0, `scenario failed in ${ns}:\n${r.stderr}\n${r.stdout}`);
        } finally {
          await deleteNetns(ns);
        }
      });
    }
  });
}
