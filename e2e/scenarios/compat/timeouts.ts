/**
 * Bounds of the compatibility suites. Three labs come up at once, often beside other work on a
 * two-core machine, so a bring-up gets far more than the 15–40 s it takes on a quiet one.
 */
export const BRING_UP_TIMEOUT_MS = 5 * 60_000;
export const SUITE_TIMEOUT_MS = 8 * 60_000;
