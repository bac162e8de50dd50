/** The benchmark's tables: medians over rounds, with the per-round values next to them. */
import { PATH_LABEL, type EgressPath } from './egress-paths.js';
import type { IperfResult } from './iperf.js';
import type { PingResult } from './ping.js';

/** product/minimal, single stream. */
export const TARGET_PRODUCT_OVER_MINIMAL = 0.95;
/** native/direct, single stream: native routing costs no more than the node's own path. */
export const TARGET_NATIVE_OVER_DIRECT = 0.95;

export interface Results {
  readonly paths: readonly EgressPath[];
  readonly streams: readonly number[];
  readonly iperf: ReadonlyMap<string, IperfResult[]>;
  readonly ping: ReadonlyMap<EgressPath, PingResult[]>;
}

export const iperfKey = (path: EgressPath, streams: number) => `${path}/${streams}`;

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

function table(head: readonly string[], body: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${line(head)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n${body.map(line).join('\n')}\n`;
}

const f2 = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(2));
const f3 = (x: number) => (Number.isNaN(x) ? '-' : x.toFixed(3));
const streamsLabel = (n: number) => (n === 1 ? '1 stream' : `${n} streams`);

function throughputTable(r: Results): string {
  const body = r.streams.flatMap((n) =>
    r.paths.map((p) => {
      const runs = r.iperf.get(iperfKey(p, n)) ?? [];
      return [
        PATH_LABEL[p],
        streamsLabel(n),
        f2(median(runs.map((x) => x.gbps))),
        runs.map((x) => x.gbps.toFixed(1)).join(' '),
        String(Math.round(median(runs.map((x) => x.retransmits)))),
        [...new Set(runs.map((x) => x.mss))].join('/'),
      ];
    }),
  );
  return table(['path', 'mode', 'Gbit/s', 'per round', 'retr', 'MSS'], body);
}

function ratioTable(r: Results): string {
  const pairs: readonly [string, EgressPath, EgressPath][] = [
    ['gateway/direct', 'gateway', 'direct'],
    ['native/direct', 'native', 'direct'],
    ['minimal/direct', 'minimal', 'direct'],
    ['product/minimal', 'gateway', 'minimal'],
  ];
  const present = pairs.filter(([, top, bottom]) => r.paths.includes(top) && r.paths.includes(bottom));
  if (present.length === 0) return '';
  const body = r.streams.flatMap((n) =>
    present.map(([name, top, bottom]) => {
      const a = r.iperf.get(iperfKey(top, n)) ?? [];
      const b = r.iperf.get(iperfKey(bottom, n)) ?? [];
      const ratio = median(a.map((x) => x.gbps)) / median(b.map((x) => x.gbps));
      const perRound = a.map((x, i) => (b[i] ? (x.gbps / b[i]!.gbps).toFixed(2) : '-'));
      const goal = n === 1 ? (name === 'product/minimal' ? TARGET_PRODUCT_OVER_MINIMAL : name === 'native/direct' ? TARGET_NATIVE_OVER_DIRECT : undefined) : undefined;
      const target = goal !== undefined ? `>= ${goal}: ${ratio >= goal ? 'met' : 'MISSED'}` : '';
      return [name, streamsLabel(n), f2(ratio), perRound.join(' '), target];
    }),
  );
  return table(['ratio', 'mode', 'of medians', 'per round', 'target'], body);
}

function rttTable(r: Results): string {
  const body = r.paths.map((p) => {
    const runs = r.ping.get(p) ?? [];
    return [
      PATH_LABEL[p],
      f3(median(runs.map((x) => x.minMs))),
      f3(median(runs.map((x) => x.avgMs))),
      runs.map((x) => x.avgMs.toFixed(3)).join(' '),
      f2(Math.max(0, ...runs.map((x) => x.lossPct))),
    ];
  });
  return table(['path', 'min ms', 'avg ms', 'avg per round', 'max loss %'], body);
}

export function renderResults(r: Results): string {
  return [throughputTable(r), ratioTable(r), rttTable(r)].filter(Boolean).join('\n');
}
