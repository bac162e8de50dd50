/**
 * Every error sluice raises carries a stable code. Codes are documented in docs/errors.md;
 * a retired code is never reused.
 */
export const ERROR_CODES = {
  EGW_ERR_INVALID_IP: 'an IP address, CIDR or range does not parse',
  EGW_ERR_INPUT: 'an input file cannot be read or parsed',
  EGW_ERR_CONFIG: 'an agent option is out of range or inconsistent',
  EGW_ERR_MARK_OVERLAP:
    '--mark-mask overlaps packet-mark bits that kube-proxy or a CNI uses by default; choose other bits, or pass --allow-mark-overlap when the cluster does not use them',
  EGW_ERR_PLAN: 'a plan cannot be built for the requested node',
  EGW_ERR_NFT: 'libnftables or nft rejected a ruleset',
  EGW_ERR_NFT_VALUE: 'a value cannot go into an nft rule or set (interface name, comment, address, name or number out of bounds); nothing is sent',
  EGW_ERR_NETLINK: 'an iproute2 command or an rtnetlink read of links, addresses, routes or rules failed',
  EGW_ERR_SYSCTL: 'a sysctl could not be read or written',
  EGW_ERR_ADDRESS_CONFLICT: 'an egress IP is already on its interface as an address sluice did not add; it is left alone',
  EGW_ERR_ANNOUNCE_NATIVE: 'the packet-socket addon (native/) is not built or failed to load',
  EGW_ERR_ANNOUNCE_SOCKET: 'an AF_PACKET socket could not be opened or bound',
  EGW_ERR_ANNOUNCE_SEND: 'a gratuitous ARP or unsolicited NA frame could not be sent',
  EGW_ERR_ANNOUNCE_LINK: 'an interface could not be read from /sys/class/net',
  EGW_ERR_ANNOUNCE_INPUT: 'an announced IP or interface name is not acceptable',
  EGW_ERR_ANNOUNCE_CONFIG: 'an announcer option is out of range',
  EGW_ERR_ANNOUNCE_CLOSED: 'the announcer was used after close()',
  EGW_ERR_PROBE_CONFIG: 'a liveness prober option is out of range',
  EGW_ERR_PROBE_INPUT: 'a node name, peer address or egress IP given to the liveness prober is not acceptable',
  EGW_ERR_PROBE_SOCKET: "a liveness probe socket could not be bound to the node's address, or failed",
  EGW_ERR_PROBE_SEND: 'a liveness probe or answer could not be sent',
  EGW_ERR_PROBE_WORKER: 'the liveness probe thread ended unexpectedly; it is started again',
  EGW_ERR_KUBE: 'the Kubernetes API answered with an error',
  EGW_ERR_NOT_LEADER: 'controller work stopped because this agent no longer holds the Lease',
  EGW_ERR_WAIT: '`sluice drain` or `sluice rebalance` did not see the move finish within --wait (the request stays in force)',
  EGW_ERR_CONNTRACK: 'conntrack entries of a deactivated policy or a moved egress IP could not be listed or deleted',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class EgressError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'EgressError';
  }
}

export function isEgressError(err: unknown): err is EgressError {
  return err instanceof EgressError;
}

/** Message of any thrown value, for logs and CLI output. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
