import { createHash } from 'node:crypto';

/** Kubernetes' generateName alphabet: no vowels, no look-alikes, so names never spell words. */
const ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;
const NAME_LIMIT = 253;

function suffix(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < SUFFIX_LENGTH; i++) out += ALPHABET[digest[i]! % ALPHABET.length];
  return out;
}

/**
 * Names for a policy's slices: `<policy>-<5 chars>`, random-looking but derived from the policy's
 * uid and a counter, so a restarted or new leader picks the same names for the same state.
 * Each call returns the next name not in `taken` (and adds it).
 */
export function sliceNamer(policyName: string, seed: string, taken: Set<string>): () => string {
  const base = policyName.slice(0, NAME_LIMIT - SUFFIX_LENGTH - 1).replace(/[-.]+$/, '');
  let n = 0;
  return () => {
    for (;;) {
      const name = `${base}-${suffix(`${seed}#${n++}`)}`;
      if (!taken.has(name)) {
        taken.add(name);
        return name;
      }
    }
  };
}
