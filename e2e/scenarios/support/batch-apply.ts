/**
 * `kubectl apply -f -` of many documents in a few batches, and what kubectl said about each: the
 * names it reports as created/configured/unchanged were accepted by the API server; every other
 * document was refused, by kubectl itself or by the server.
 */
import { stringify as stringifyYaml } from 'yaml';
import type { KubeObject } from '../../../lib/api/wire.js';
import type { Lab } from '../../labkit/lab.js';

/** A batch of a few hundred objects takes kubectl seconds; give it ample time on a busy machine. */
const BATCH_TIMEOUT_MS = 180_000;

export interface BatchOutcome {
  /** `kind/name` (kind lower case, as kubectl prints it without the group) of every accepted object. */
  readonly accepted: ReadonlySet<string>;
  /** kubectl's complaints, one per refused document: server errors and documents it could not decode or map. */
  readonly refusals: readonly string[];
  /** Anything else kubectl wrote on stderr. */
  readonly other: readonly string[];
  /** How many of the kubectl runs exited non-zero. */
  readonly failedRuns: number;
  readonly ms: number;
}

const ACCEPTED = /^([a-z]+)\.[a-z.]+\/(\S+) (created|configured|unchanged)$/;

/** How kubectl names an object in its output: `egresspolicy/NAME`. */
export const acceptedKey = (o: KubeObject): string => `${o.kind!.toLowerCase()}/${o.metadata!.name}`;

/** Applies `docs` (YAML text or objects) in batches of `batchSize`; never throws on refusals. */
export async function applyInBatches(lab: Lab, docs: ReadonlyArray<KubeObject | string>, batchSize: number): Promise<BatchOutcome> {
  const accepted = new Set<string>();
  const refusals: string[] = [];
  const other: string[] = [];
  let failedRuns = 0;
  const t0 = Date.now();
  for (let from = 0; from < docs.length; from += batchSize) {
    const stream = docs
      .slice(from, from + batchSize)
      // Every string value quoted: plain `yes` or `on` is a string to a YAML 1.2 writer and a boolean to kubectl (YAML 1.1).
      .map((d) => (typeof d === 'string' ? d : stringifyYaml(d, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN' })))
      .join('---\n');
    const r = await lab.kubectl(['apply', '-f', '-'], { input: stream, allowFailure: true, timeoutMs: BATCH_TIMEOUT_MS });
    if (r.exitCode === 124) throw new Error(`kubectl apply of documents ${from}-${from + batchSize - 1} timed out`);
    if (r.exitCode !== 0) failedRuns++;
    for (const line of r.stdout.split('\n')) {
      const m = ACCEPTED.exec(line.trim());
      if (m) accepted.add(`${m[1]}/${m[2]}`);
    }
    const said = kubectlRefusals(r.stderr);
    refusals.push(...said.refusals);
    other.push(...said.other);
  }
  return { accepted, refusals, other, failedRuns, ms: Date.now() - t0 };
}

/**
 * One entry per refused document. kubectl prints server refusals one per line ("Error from server
 * (Invalid): error when creating …") and gathers the documents it could not decode or map into
 * one bracketed, comma-separated list.
 */
export function kubectlRefusals(stderr: string): { refusals: string[]; other: string[] } {
  const refusals: string[] = [];
  const other: string[] = [];
  for (const line of stderr.split('\n')) {
    const before = refusals.length;
    if (line.startsWith('Error from server')) refusals.push(line);
    for (const m of line.matchAll(/(unable to decode "[^"]*"|resource mapping not found for name)/g)) refusals.push(m[0]);
    if (refusals.length === before && line.trim() && !/^ensure CRDs are installed first\]?$/.test(line.trim())) other.push(line);
  }
  return { refusals, other };
}
