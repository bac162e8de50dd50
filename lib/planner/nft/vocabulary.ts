/**
 * The nft rules sluice writes, as data. A rule is a list of statements; statements read fields,
 * compare them with values and act. Only what is listed here can be written, and every string in
 * it is either one of the keywords below or a value checked by values.ts.
 *
 * To add a rule shape:
 * 1. add its variant to one of the unions below; render.ts then does not compile until the
 *    variant has both forms, its nft text and its libnftables JSON, each checking its values;
 * 2. add a constructor to statements.ts that checks the values it is given (values.ts);
 * 3. use it in a rule of testing/catalogue.ts and name its kind in render.test.ts (the type
 *    checker insists): the kernel tests load every catalogue rule as text and as JSON and compare
 *    the bytecode, and the unit test fails while a kind is missing from the catalogue.
 */
import type { Family } from '../../api/ip.js';

export const META_KEYS = ['mark', 'iifname', 'oifname', 'l4proto', 'nfproto'] as const;
export const CT_KEYS = ['mark', 'state', 'direction', 'status'] as const;
export const ADDRESS_FIELDS = ['saddr', 'daddr'] as const;
export const PORT_FIELDS = ['sport', 'dport'] as const;
export const PORT_PROTOCOLS = ['tcp', 'udp', 'sctp'] as const;
/** How a `reject` answers: a TCP reset, or an ICMP/ICMPv6 "administratively prohibited" unreachable. */
export const REJECT_WITH = ['tcp reset', 'icmpx admin-prohibited'] as const;
/** What a `fib` lookup is keyed by, and what it returns. */
export const FIB_FLAGS = ['saddr', 'daddr', 'mark', 'iif', 'oif'] as const;
export const FIB_RESULTS = ['oif', 'oifname', 'type'] as const;

/** Keywords that may stand as a value, per field. */
export const SYMBOLS = {
  'ct direction': ['original', 'reply'],
  'ct state': ['new', 'established', 'related', 'invalid', 'untracked'],
  'ct status': ['expected', 'seen-reply', 'assured', 'confirmed', 'snat', 'dnat', 'dying'],
  'tcp flags': ['fin', 'syn', 'rst', 'psh', 'ack', 'urg', 'ecn', 'cwr'],
  'meta l4proto': ['tcp', 'udp', 'sctp', 'icmp', 'icmpv6'],
  'meta nfproto': ['ipv4', 'ipv6'],
} as const;
type SymbolField = keyof typeof SYMBOLS;
export type NftSymbol = (typeof SYMBOLS)[SymbolField][number];
export const ALL_SYMBOLS: readonly NftSymbol[] = [...new Set(Object.values(SYMBOLS).flat())];

/** What a rule reads: the left side of a match, or the target of a `set`. */
export type Field =
  | { readonly kind: 'meta'; readonly key: (typeof META_KEYS)[number] }
  | { readonly kind: 'ct'; readonly key: (typeof CT_KEYS)[number] }
  | { readonly kind: 'address'; readonly family: Family; readonly field: (typeof ADDRESS_FIELDS)[number] }
  | { readonly kind: 'port'; readonly protocol: (typeof PORT_PROTOCOLS)[number]; readonly field: (typeof PORT_FIELDS)[number] }
  | { readonly kind: 'tcp flags' }
  /** A route lookup: `fib saddr . iif oif` is the interface the route back to the source leaves by, or 0. */
  | { readonly kind: 'fib'; readonly flags: readonly (typeof FIB_FLAGS)[number][]; readonly result: (typeof FIB_RESULTS)[number] }
  | { readonly kind: 'rt mtu' }
  /** The next hop the route chosen for the packet sends it to (after routing: forward, postrouting). */
  | { readonly kind: 'rt nexthop'; readonly family: Family }
  /** The link-layer source of a packet that arrived on an Ethernet interface. */
  | { readonly kind: 'ether saddr' }
  | { readonly kind: 'tcp mss' };

/** A field, or a field with bits masked or set: `meta mark & 0xff00`, `meta mark & 0xffff00ff | 0x100`. */
export type Expr = Field | { readonly kind: 'bitwise'; readonly op: '&' | '|'; readonly left: Expr; readonly right: number };

/** The right side of a match, or what a `set` writes. */
export type Value =
  | { readonly kind: 'number'; readonly value: number }
  | { readonly kind: 'interface'; readonly name: string }
  | { readonly kind: 'symbol'; readonly name: NftSymbol }
  /** Any of these bits (`ct state new,invalid`, `tcp flags syn`). */
  | { readonly kind: 'flags'; readonly names: readonly NftSymbol[] }
  | { readonly kind: 'ip'; readonly family: Family; readonly address: string; readonly prefix?: number }
  /** A lower-case unicast MAC address. */
  | { readonly kind: 'mac'; readonly address: string }
  | { readonly kind: 'named set'; readonly name: string }
  | { readonly kind: 'anonymous set'; readonly items: readonly Value[] };

export type Verdict = 'accept' | 'drop' | 'return';

export type Statement =
  | { readonly kind: 'match'; readonly left: Expr; readonly op: '==' | '!='; readonly right: Value }
  | { readonly kind: 'counter' }
  /** `TARGET set VALUE`: packet marks, conntrack marks, the TCP MSS option. */
  | { readonly kind: 'set'; readonly target: Field; readonly value: Expr | Value }
  | { readonly kind: 'snat'; readonly family: Family; readonly to: Value }
  /**
   * `snat ip to ip saddr`: a NAT binding that keeps the source as it is. NAT chains of one hook run
   * in priority order until one binds the connection, so this keeps a later masquerade off it.
   */
  | { readonly kind: 'snat to source'; readonly family: Family }
  | { readonly kind: 'masquerade' }
  /** `dnat ip to ADDR:PORT`: steers a connection to a local listener (firewalls' DNS forwarder). */
  | { readonly kind: 'dnat'; readonly family: Family; readonly to: Value; readonly port: number }
  /** Refuses the packet with an answer (a reset or an ICMP error); the verdict is drop. */
  | { readonly kind: 'reject'; readonly with: (typeof REJECT_WITH)[number] }
  /** Matches while under RATE packets per second (BURST more at once): rate-limits what follows. */
  | { readonly kind: 'limit'; readonly rate: number; readonly burst: number }
  /** Logs the packet with a checked PREFIX: to the kernel log, or with GROUP to that nfnetlink_log group (a reader in user space). */
  | { readonly kind: 'log'; readonly prefix: string; readonly group?: number }
  | { readonly kind: 'verdict'; readonly verdict: Verdict };

export interface NftRule {
  readonly statements: readonly Statement[];
  readonly comment?: string;
}

export const PRIORITY_BASES = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 } as const;

/** A chain priority as a standard name plus an offset: `srcnat - 10` is `{ base: 'srcnat', offset: -10 }`. */
export interface ChainPriority {
  readonly base: keyof typeof PRIORITY_BASES;
  readonly offset: number;
}
