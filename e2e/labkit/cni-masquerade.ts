/**
 * The CNI's masquerade of pod traffic, as the CNIs the lab imitates write it (see MASQUERADE_MODES).
 * Each mode renders for nft or for iptables (either backend); pure except for the loader at the end.
 * What matters for an egress gateway: `flannel` and `calico` match no interface, so pod traffic
 * that a node routes into a tunnel is masqueraded too, unless a NAT binding was made before theirs.
 */
import { POD_V4_CIDR, POD_V6_CIDR, nodePodCidrs } from './addressing.js';
import { cniRuleset } from './cni.js';
import { iptablesBackend, type NetworkOptions } from './network-options.js';
import { loadNodeRules, restoreText, type NodeRules } from './node-rules.js';
import type { LabState, NodeState } from './state.js';

type Family = 4 | 6;

const POOL: Record<Family, string> = { 4: POD_V4_CIDR, 6: POD_V6_CIDR };
const MULTICAST: Record<Family, string> = { 4: '224.0.0.0/4', 6: 'ff00::/8' };
const IP: Record<Family, 'ip' | 'ip6'> = { 4: 'ip', 6: 'ip6' };

/** kube-proxy's masquerade bit: Flannel leaves such packets to kube-proxy. */
const KUBE_PROXY_MASQ_MARK = '0x4000';
/** felix's default IptablesMarkMask, and the bits it allocates from it. */
const CALICO_MARKS = { all: '0xffff0000', accept: '0x10000', allButAccept: '0xfffe0000' } as const;

const families = (state: LabState): Family[] => (state.ipv6 ? [4, 6] : [4]);
const nodeCidr = (node: NodeState, f: Family) => nodePodCidrs(node.index)[f === 4 ? 'v4' : 'v6'];

export function masqueradeRules(state: LabState, node: NodeState, net: NetworkOptions): NodeRules {
  const fams = families(state);
  const nft = net.netfilter === 'nft';
  switch (net.masquerade) {
    case 'eth0':
      return nft ? { nft: cniRuleset() } : iptablesPerFamily(fams, eth0Iptables);
    case 'flannel':
      return nft ? { nft: fams.map((f) => flannelNft(f, nodeCidr(node, f))).join('') } : iptablesPerFamily(fams, (f) => flannelIptables(f, nodeCidr(node, f)));
    case 'calico':
      return nft ? { nft: fams.map(calicoNft).join('') } : { ...iptablesPerFamily(fams, calicoIptables), ipset: fams.flatMap(calicoIpsets) };
  }
}

function iptablesPerFamily(fams: readonly Family[], render: (f: Family) => string): NodeRules {
  return Object.fromEntries(fams.map((f) => [`ip${f}`, render(f)])) as NodeRules;
}

function eth0Iptables(f: Family): string {
  const rule = `-A POSTROUTING -o eth0 -s ${POOL[f]} ! -d ${POOL[f]} -m comment --comment "lab cni masquerade" -j MASQUERADE`;
  return restoreText([{ name: 'nat', chains: [], rules: [rule] }]);
}

/** flanneld `--ip-masq`: FLANNEL-POSTRTG appended to POSTROUTING, FLANNEL-FWD to FORWARD. */
function flannelIptables(f: Family, podCidr: string): string {
  const cluster = POOL[f];
  const c = '-m comment --comment "flanneld masq"';
  return restoreText([
    {
      name: 'nat',
      chains: ['FLANNEL-POSTRTG'],
      rules: [
        `-A POSTROUTING ${c} -j FLANNEL-POSTRTG`,
        `-A FLANNEL-POSTRTG -m mark --mark ${KUBE_PROXY_MASQ_MARK}/${KUBE_PROXY_MASQ_MARK} ${c} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${podCidr} -d ${cluster} ${c} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${cluster} -d ${podCidr} ${c} -j RETURN`,
        `-A FLANNEL-POSTRTG ! -s ${cluster} -d ${podCidr} ${c} -j RETURN`,
        `-A FLANNEL-POSTRTG -s ${cluster} ! -d ${MULTICAST[f]} ${c} -j MASQUERADE --random-fully`,
        `-A FLANNEL-POSTRTG ! -s ${cluster} -d ${cluster} ${c} -j MASQUERADE --random-fully`,
      ],
    },
    {
      name: 'filter',
      chains: ['FLANNEL-FWD'],
      rules: [
        '-A FORWARD -m comment --comment "flanneld forward" -j FLANNEL-FWD',
        `-A FLANNEL-FWD -s ${cluster} -m comment --comment "flanneld forward" -j ACCEPT`,
        `-A FLANNEL-FWD -d ${cluster} -m comment --comment "flanneld forward" -j ACCEPT`,
      ],
    },
  ]);
}

/** flanneld's nftables mode: tables `ip flannel-ipv4` / `ip6 flannel-ipv6`, postrtg at srcnat. */
function flannelNft(f: Family, podCidr: string): string {
  const ip = IP[f];
  const cluster = POOL[f];
  const table = `${ip} flannel-ipv${f}`;
  return `add table ${table}
delete table ${table}
table ${table} {
  comment "rules for flannel-ipv${f}"
  chain postrtg {
    type nat hook postrouting priority srcnat; policy accept;
    meta mark ${KUBE_PROXY_MASQ_MARK} return
    ${ip} saddr ${podCidr} ${ip} daddr ${cluster} return
    ${ip} saddr ${cluster} ${ip} daddr ${podCidr} return
    ${ip} saddr != ${podCidr} ${ip} daddr ${cluster} return
    ${ip} saddr ${cluster} ${ip} daddr != ${MULTICAST[f]} masquerade fully-random
    ${ip} saddr != ${cluster} ${ip} daddr ${cluster} masquerade fully-random
  }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ${ip} saddr ${cluster} accept
    ${ip} daddr ${cluster} accept
  }
}
`;
}

const calicoSet = (f: Family, what: 'masq' | 'all') => `cali${f}0${what}-ipam-pools`;

function calicoIpsets(f: Family): string[] {
  const family = f === 4 ? 'inet' : 'inet6';
  return (['masq', 'all'] as const).flatMap((what) => [`create ${calicoSet(f, what)} hash:net family ${family}`, `add ${calicoSet(f, what)} ${POOL[f]}`]);
}

/**
 * felix in iptables mode (insert mode): natOutgoing over ipsets of the IP pools, and the mark
 * handling that runs on every packet: Calico's bits cleared in raw, mangle, filter FORWARD and
 * OUTPUT, the accept bit set on everything that reaches the end of FORWARD.
 */
function calicoIptables(f: Family): string {
  const { all, accept, allButAccept } = CALICO_MARKS;
  const acceptMark = `-m mark --mark ${accept}/${accept}`;
  return restoreText([
    { name: 'raw', chains: ['cali-PREROUTING'], rules: ['-I PREROUTING 1 -j cali-PREROUTING', `-A cali-PREROUTING -j MARK --set-xmark 0x0/${all}`] },
    {
      name: 'mangle',
      chains: ['cali-PREROUTING', 'cali-POSTROUTING'],
      rules: [
        '-I PREROUTING 1 -j cali-PREROUTING',
        '-A cali-PREROUTING -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
        `-A cali-PREROUTING ${acceptMark} -j ACCEPT`,
        '-I POSTROUTING 1 -j cali-POSTROUTING',
        `-A cali-POSTROUTING ${acceptMark} -j RETURN`,
        `-A cali-POSTROUTING -j MARK --set-xmark 0x0/${all}`,
      ],
    },
    {
      name: 'nat',
      chains: ['cali-POSTROUTING', 'cali-fip-snat', 'cali-nat-outgoing'],
      rules: [
        '-I POSTROUTING 1 -j cali-POSTROUTING',
        '-A cali-POSTROUTING -j cali-fip-snat',
        '-A cali-POSTROUTING -j cali-nat-outgoing',
        `-A cali-nat-outgoing -m set --match-set ${calicoSet(f, 'masq')} src -m set ! --match-set ${calicoSet(f, 'all')} dst -j MASQUERADE --random-fully`,
      ],
    },
    {
      name: 'filter',
      chains: ['cali-FORWARD', 'cali-OUTPUT'],
      rules: [
        '-I FORWARD 1 -j cali-FORWARD',
        `-A cali-FORWARD -j MARK --set-xmark 0x0/${allButAccept}`,
        `-A FORWARD ${acceptMark} -m comment --comment "Policy explicitly accepted packet." -j ACCEPT`,
        `-A FORWARD -j MARK --set-xmark ${accept}/${accept}`,
        '-I OUTPUT 1 -j cali-OUTPUT',
        `-A cali-OUTPUT ${acceptMark} -j ACCEPT`,
        `-A cali-OUTPUT -j MARK --set-xmark 0x0/${all}`,
      ],
    },
  ]);
}

/** felix's nftables mode: one `calico` table per family, base chains named after the iptables ones. */
function calicoNft(f: Family): string {
  const ip = IP[f];
  const { all, accept, allButAccept } = CALICO_MARKS;
  const type = f === 4 ? 'ipv4_addr' : 'ipv6_addr';
  const table = `${ip} calico`;
  const clear = (bits: string) => `meta mark set meta mark & ${'0x' + (~Number(bits) >>> 0).toString(16).padStart(8, '0')}`;
  return `add table ${table}
delete table ${table}
table ${table} {
  set ${calicoSet(f, 'masq')} { type ${type}; flags interval; elements = { ${POOL[f]} }; }
  set ${calicoSet(f, 'all')} { type ${type}; flags interval; elements = { ${POOL[f]} }; }
  chain raw-PREROUTING {
    type filter hook prerouting priority raw; policy accept;
    ${clear(all)}
  }
  chain mangle-PREROUTING {
    type filter hook prerouting priority mangle; policy accept;
    ct state related,established accept
    meta mark & ${accept} == ${accept} accept
  }
  chain mangle-POSTROUTING {
    type filter hook postrouting priority mangle; policy accept;
    meta mark & ${accept} == ${accept} return
    ${clear(all)}
  }
  chain nat-POSTROUTING {
    type nat hook postrouting priority srcnat; policy accept;
    jump nat-cali-POSTROUTING
  }
  chain nat-cali-POSTROUTING {
    jump nat-cali-nat-outgoing
  }
  chain nat-cali-nat-outgoing {
    ${ip} saddr @${calicoSet(f, 'masq')} ${ip} daddr != @${calicoSet(f, 'all')} masquerade fully-random
  }
  chain filter-FORWARD {
    type filter hook forward priority filter; policy accept;
    ${clear(allButAccept)}
    meta mark & ${accept} == ${accept} accept comment "Policy explicitly accepted packet."
    meta mark set meta mark | ${accept}
  }
  chain filter-OUTPUT {
    type filter hook output priority filter; policy accept;
    meta mark & ${accept} == ${accept} accept
    ${clear(all)}
  }
}
`;
}

/** Loads the node's CNI masquerade (at `up`, once per node). */
export async function loadCniMasquerade(state: LabState, node: NodeState, net: NetworkOptions): Promise<void> {
  await loadNodeRules(node.netns, masqueradeRules(state, node, net), iptablesBackend(net));
}
