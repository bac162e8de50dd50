import * as crypto from 'node:crypto';

/** Hex SHA-256 of `text`: the one-shot hash where Node has it (20.12+), the same digest otherwise. */
const sha256Hex: (text: string) => string =
  typeof crypto.hash === 'function' ? (text) => crypto.hash('sha256', text, 'hex') : (text) => crypto.createHash('sha256').update(text).digest('hex');

/**
 * Rendezvous (highest random weight) hashing: every caller with the same candidates and key picks
 * the same winner, and a candidate joining or leaving moves only the keys it wins or won. The
 * score is the first 64 bits of sha256("candidate#key"), compared as fixed-width hex.
 */
export function rendezvousPick(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = '';
  for (const candidate of candidates) {
    const score = sha256Hex(`${candidate}#${key}`).slice(0, 16);
    if (best === undefined || score > bestScore || (score === bestScore && candidate < best)) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

/** A short stable hex digest, for names derived from keys (nft set names). */
export function shortHash(text: string, hexChars = 10): string {
  return sha256Hex(text).slice(0, hexChars);
}
