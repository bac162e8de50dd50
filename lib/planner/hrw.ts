import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest random weight) hashing: every caller with the same candidates and key picks
 * the same winner, and a candidate joining or leaving moves only the keys it wins or won.
 */
export function rendezvousPick(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1n;
  for (const candidate of candidates) {
    const score = createHash('sha256').update(`${candidate}#${key}`).digest().readBigUInt64BE(0);
    if (score > bestScore || (score === bestScore && best !== undefined && candidate < best)) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** A short stable hex digest, for names derived from keys (nft set names). */
export function shortHash(text: string, hexChars = 10): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexChars);
}
