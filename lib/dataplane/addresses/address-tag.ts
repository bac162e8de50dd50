/**
 * How sluice recognises its own EIP addresses after a restart, without a state file.
 *
 * Each EIP is added as a host address (/32, /128) with this value in IFA_RT_PRIORITY (`ip addr
 * add … metric N`, kernel ≥ 4.18). The kernel keeps it for the address's lifetime and
 * `ip -json addr` prints it for both families, so "host prefix + this metric" marks an address
 * as ours. Chosen over the alternatives because:
 * - IPv4 labels (`eth0:sle`) do not exist for IPv6 and break on 15-character NIC names;
 * - IFA_PROTO (`ip addr add … proto N`) is rejected by this iproute2 (6.1: "proto is a garbage");
 * - a state file can be lost (container restart without a host mount) or outlive the kernel state.
 * Side effects: none for a /32 (IPv4 makes no prefix route for it); IPv6 is added with
 * `noprefixroute`, so the metric shapes no route either.
 * 0x51ce ("sluice") is not a metric anything else is likely to pick; it is configurable.
 */
export const DEFAULT_ADDRESS_TAG = 0x51ce;
