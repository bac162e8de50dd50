/**
 * What a spidernet user expects after a write (spidernet's own e2e suite): status within 5 s of a
 * change, the data path within 2 s. A probe that starts inside the window counts.
 */
export const STATUS_WITHIN_MS = 5_000;
export const DATA_PATH_WITHIN_MS = 2_000;
/** A hand change to the tunnel device is repaired well before the 30 s resync. */
export const REPAIR_WITHIN_MS = 5_000;
