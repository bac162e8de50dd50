/**
 * How hostile the lab's node network is: which CNI masquerade it runs and with which netfilter tool,
 * whether a kube-proxy writes Service rules, and whether nodes have a second NIC. Chosen at `up`,
 * recorded in the state, never changed afterwards. Pure.
 */

/**
 * - `eth0`: the lab's own table, masquerading pod traffic that leaves eth0 only (the default).
 * - `flannel`: Flannel's `--ip-masq` rules: pod traffic to anything outside the pod CIDR is
 *   masqueraded whatever interface it leaves by (only kube-proxy's 0x4000-marked traffic is spared).
 * - `calico`: Calico's `natOutgoing`: pod traffic to anything outside the IP pools is masqueraded on
 *   every interface, and Calico's own mark bits (0xffff0000) are cleared and set as felix does.
 */
export const MASQUERADE_MODES = ['eth0', 'flannel', 'calico'] as const;
export type MasqueradeMode = (typeof MASQUERADE_MODES)[number];

/** `iptables` is iptables-nft (Debian's default), `iptables-legacy` the x_tables backend. */
export const NETFILTER_TOOLS = ['nft', 'iptables', 'iptables-legacy'] as const;
export type NetfilterTool = (typeof NETFILTER_TOOLS)[number];

export const KUBE_PROXY_MODES = ['none', 'iptables', 'nftables'] as const;
export type KubeProxyMode = (typeof KUBE_PROXY_MODES)[number];

export interface NetworkOptions {
  masquerade: MasqueradeMode;
  /** The tool the CNI writes its rules with; kube-proxy's iptables mode uses the same iptables backend. */
  netfilter: NetfilterTool;
  kubeProxy: KubeProxyMode;
  /** Every node gets eth1 on a second segment, with a host of its own behind it. */
  secondNic: boolean;
}

export const DEFAULT_NETWORK: Readonly<NetworkOptions> = Object.freeze({
  masquerade: 'eth0',
  netfilter: 'nft',
  kubeProxy: 'none',
  secondNic: false,
});

function oneOf<T extends string>(what: string, allowed: readonly T[], v: unknown): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new Error(`${what} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Defaults filled in and every field checked (the options come from the CLI or a test). */
export function networkOptions(partial: Partial<NetworkOptions> = {}): NetworkOptions {
  const o = { ...DEFAULT_NETWORK, ...partial };
  if (typeof o.secondNic !== 'boolean') throw new Error(`secondNic must be a boolean, got ${JSON.stringify(o.secondNic)}`);
  return {
    masquerade: oneOf('masquerade', MASQUERADE_MODES, o.masquerade),
    netfilter: oneOf('netfilter', NETFILTER_TOOLS, o.netfilter),
    kubeProxy: oneOf('kubeProxy', KUBE_PROXY_MODES, o.kubeProxy),
    secondNic: o.secondNic,
  };
}

/** A lab's options; states written before they existed get the defaults. */
export function networkOf(state: { network?: NetworkOptions }): NetworkOptions {
  return state.network ?? { ...DEFAULT_NETWORK };
}

/** The iptables backend for rules that must be iptables (kube-proxy's iptables mode): the CNI's, or nft. */
export function iptablesBackend(o: NetworkOptions): 'nft' | 'legacy' {
  return o.netfilter === 'iptables-legacy' ? 'legacy' : 'nft';
}
