/**
 * How hard the reliability scenarios push: a short run for `make test`, the long one for
 * `make soak` (SLUICE_SOAK=1). One place for both, so the two runs differ only in scale.
 */
export const SOAK = process.env['SLUICE_SOAK'] === '1';

/** How long the API server stays down in each outage scenario. */
export const API_OUTAGE_MS = SOAK ? 5 * 60_000 : 20_000;

/** How many malformed objects the hostile-input scenario applies. */
export const MALFORMED_OBJECTS = SOAK ? 1000 : 250;

/** How many forged slices and tunnels (kinds only sluice writes) the hostile-input scenario applies. */
export const FORGED_OBJECTS = SOAK ? 500 : 100;

/**
 * How many lookups, each followed at once by a connection to its answer, the firewall-names
 * scenario makes per pod; SLUICE_FIREWALL_LOOKUPS sets any count.
 */
export const FIREWALL_LOOKUPS = Number(process.env['SLUICE_FIREWALL_LOOKUPS'] ?? (SOAK ? 10_000 : 1000));
