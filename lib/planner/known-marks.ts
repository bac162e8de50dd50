/**
 * Packet-mark bits that other parts of a Kubernetes node use, as their defaults stand. sluice's
 * `--mark-mask` must stay clear of the ones that are on a node's packets before routing or that
 * other rules test later: our `ip rule fwmark` would send their packets into our tables, and
 * their rules would act on ours. README's marks table says the same for people.
 */
export interface KnownMark {
  readonly owner: string;
  /** The bits, as the owner uses them by default. */
  readonly bits: number;
  readonly use: string;
  /**
   * A mask overlapping these is refused unless the user says they know better: the bits are on
   * every node that runs the owner with its defaults. The others are documented, not refused.
   */
  readonly refused: boolean;
}

export const KNOWN_MARKS: readonly KnownMark[] = [
  { owner: 'kube-proxy', bits: 0x4000, use: 'masquerade (--iptables-masquerade-bit 14), iptables and nftables modes', refused: true },
  { owner: 'kube-proxy', bits: 0x8000, use: 'drop (KUBE-FIREWALL, --iptables-drop-bit 15)', refused: true },
  { owner: 'Calico', bits: 0xffff0000, use: 'Felix iptablesMarkMask / nftablesMarkMask default (eBPF mode: 0x1ff00000 inside it)', refused: true },
  { owner: 'Cilium', bits: 0x00000f00, use: 'magic marks (proxy, host, encryption, identity)', refused: true },
  { owner: 'Cilium', bits: 0x00001000, use: 'WireGuard encrypted (0x1e00)', refused: true },
  { owner: 'AWS VPC CNI', bits: 0x00000080, use: 'AWS_VPC_K8S_CNI_CONNMARK, routed by an ip rule at priority 1024', refused: true },
  { owner: 'Antrea', bits: 0xc0000000, use: 'host-local source (bit 31), Egress return to remote pods (bit 30)', refused: true },
  { owner: 'Antrea', bits: 0x000000ff, use: 'Egress SNAT IP id, only on pods that an Antrea Egress selects', refused: false },
  { owner: 'Cilium', bits: 0xffff00ff, use: 'security identity, only with an identity-carrying magic mark; its low byte is non-zero only with ClusterMesh', refused: false },
  { owner: 'Istio', bits: 0x00000fff, use: '0x539 (proxy) and 0x111 (TPROXY), set inside pod network namespaces only', refused: false },
];

/** Bits no default sluice mask may overlap without an override. */
export const REFUSED_MARK_BITS = KNOWN_MARKS.filter((m) => m.refused).reduce((bits, m) => (bits | m.bits) >>> 0, 0);

/** The known marks a mask overlaps (refused ones first). */
export function markOverlaps(mask: number, which: 'refused' | 'all' = 'refused'): KnownMark[] {
  return KNOWN_MARKS.filter((m) => (which === 'all' || m.refused) && (m.bits & mask) >>> 0 !== 0);
}

export const hex = (n: number): string => `0x${(n >>> 0).toString(16)}`;
