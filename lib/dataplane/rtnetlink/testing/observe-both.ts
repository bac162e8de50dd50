/**
 * Observes links, addresses, rules and routes of the namespace it runs in twice, through `ip`
 * processes and over rtnetlink, and prints both as JSON: `{ iproute, rtnetlink }`. Started by
 * rtnetlink-reads.test.ts with `ip netns exec NS node observe-both.js REQUEST-JSON`.
 */
import { observeAddresses } from '../../addresses/address-observe.js';
import { execFile } from '../../iproute/exec.js';
import { processReads } from '../../iproute/process-reads.js';
import type { KernelReads } from '../../iproute/rows.js';
import { observeLinks } from '../../links/link-observe.js';
import { observeRouting } from '../../routes/route-observe.js';
import type { OwnedRanges } from '../../routes/route-types.js';
import { rtnetlinkReads } from '../rtnetlink-reads.js';

export interface ObserveBothRequest {
  readonly devices: readonly string[];
  readonly tag: number;
  readonly owned: OwnedRanges;
}

const request = JSON.parse(process.argv[2] ?? '{}') as ObserveBothRequest;

async function observe(reads: KernelReads) {
  return {
    links: await Promise.all(request.devices.map((d) => observeLinks(reads, d, undefined, '/sys/class/net'))),
    addresses: await observeAddresses(reads, request.tag),
    routing: await observeRouting(reads, request.owned),
  };
}

const iproute = await observe(processReads(execFile));
const rtnetlink = await observe(rtnetlinkReads());
process.stdout.write(JSON.stringify({ iproute, rtnetlink }));
