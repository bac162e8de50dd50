/**
 * Entry point of one nft driver scenario, run by nft-driver.netns.test.ts as
 * `ip netns exec NS node run-case.js CASE BACKEND`: libnftables acts on the network namespace
 * of the calling process, and a Node process cannot switch namespaces itself.
 */
import { inspect } from 'node:util';
import { LibnftablesBackend } from '../libnftables.js';
import { NftCliBackend } from '../nft-cli.js';
import { NftDriver } from '../nft-driver.js';
import { quietLog } from './lab-fixtures.js';
import { NFT_CASES, type CaseContext } from './nft-cases.js';
import { inLabNetns } from './netns-guard.js';

const [name = '', backend = 'libnftables'] = process.argv.slice(2);

async function main(): Promise<number> {
  if (!(await inLabNetns('sl-'))) {
    process.stderr.write('refusing to run: not inside an sl-* lab network namespace (use ip netns exec)\n');
    return 2;
  }
  const scenario = NFT_CASES[name];
  if (!scenario || (backend !== 'libnftables' && backend !== 'cli')) {
    process.stderr.write(`usage: run-case.js CASE libnftables|cli; cases:\n${Object.keys(NFT_CASES).join('\n')}\n`);
    return 2;
  }
  const drivers: NftDriver[] = [];
  const ctx: CaseContext = {
    backend,
    openDriver(options = {}) {
      const driver = new NftDriver({ table: 'sluice', log: quietLog, backend: backend === 'cli' ? new NftCliBackend() : new LibnftablesBackend(), ...options });
      drivers.push(driver);
      return driver;
    },
  };
  try {
    await scenario(ctx);
    return 0;
  } catch (err) {
    process.stderr.write(`${inspect(err, { depth: 6 })}\n`);
    return 1;
  } finally {
    for (const d of drivers) d.close();
  }
}

process.exitCode = await main();
