/** Freezes an object graph so the parsed model cannot be changed behind the planner's back. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
  }
  return value;
}

/**
 * `compute` once per object, remembered as long as the object lives: for values derived from
 * objects that are never changed once made. `compute` freezes what it reads (deepFreeze), so a
 * later change throws where it happens instead of leaving a stale value here.
 */
export function memoByObject<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const memo = new WeakMap<K, V>();
  return (key) => {
    if (memo.has(key)) return memo.get(key) as V;
    const value = compute(key);
    memo.set(key, value);
    return value;
  };
}
