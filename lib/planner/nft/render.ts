/**
 * The one place where typed nft rules become nft text (for people: `sluice plan -o nft`, diffs,
 * error messages) and libnftables JSON (for the kernel). Both forms of every piece are written
 * side by side, from the same checked values: each renderer below validates what it writes (see
 * values.ts), so a table that did not come from the statement constructors is refused
 * (EGW_ERR_NFT_VALUE), never written.
 */
import { EgressError } from '../../errors.js';
import type { Family } from '../../api/ip.js';
import type { NftChain, NftSet, NftTablePlan } from '../node-plan.js';
import { address, comment, identifier, interfaceName, logGroup, logPrefix, macAddress, oneOf, prefixLength, setElement, u32 } from './values.js';
import {
  ADDRESS_FIELDS,
  ALL_SYMBOLS,
  CT_KEYS,
  FIB_FLAGS,
  FIB_RESULTS,
  META_KEYS,
  PORT_FIELDS,
  PORT_PROTOCOLS,
  REJECT_WITH,
  PRIORITY_BASES,
  type ChainPriority,
  type Expr,
  type Field,
  type NftRule,
  type Statement,
  type Value,
} from './vocabulary.js';

type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/**
 * Both forms of one variant, side by side. Each checks what it writes; `hex` says whether numbers
 * are bit patterns (marks), which nft text shows in hex.
 */
interface Forms<T> {
  text(x: T, hex: boolean): string;
  json(x: T, hex: boolean): Json;
}

/** Forms per variant: a new variant does not compile until it has both. */
type Renderers<U extends { readonly kind: string }> = { readonly [K in U['kind']]: Forms<Extract<U, { readonly kind: K }>> };

function refuse(what: string, value: unknown): never {
  throw new EgressError('EGW_ERR_NFT_VALUE', `${what} ${JSON.stringify(value)?.slice(0, 80) ?? String(value)} is not part of the nft vocabulary`);
}

/** The forms for `x`'s kind; anything else (a plan edited by hand) is refused. */
function formsOf<U extends { readonly kind: string }>(what: string, renderers: Renderers<U>, x: U): Forms<U> {
  const kind: unknown = typeof x === 'object' && x !== null ? x.kind : undefined;
  if (typeof kind !== 'string' || !Object.hasOwn(renderers, kind)) return refuse(what, kind ?? x);
  return (renderers as unknown as Record<string, Forms<U>>)[kind]!;
}

const hexText = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const familyOf = (f: unknown): Family => (f === 4 || f === 6 ? f : refuse('address family', f));
const ipKeyword = (f: unknown) => (familyOf(f) === 4 ? 'ip' : 'ip6');

function nonEmpty(vs: unknown, what: string): readonly unknown[] {
  return Array.isArray(vs) && vs.length > 0 ? vs : refuse(what, vs);
}

// ---- fields and expressions ----

const metaKey = (f: { key: unknown }) => oneOf('meta key', META_KEYS, f.key);
const ctKey = (f: { key: unknown }) => oneOf('ct key', CT_KEYS, f.key);
const addressField = (f: { field: unknown }) => oneOf('address field', ADDRESS_FIELDS, f.field);
const portProtocol = (f: { protocol: unknown }) => oneOf('protocol', PORT_PROTOCOLS, f.protocol);
const portField = (f: { field: unknown }) => oneOf('port field', PORT_FIELDS, f.field);
const fibFlags = (f: { flags: unknown }) => nonEmpty(f.flags, 'fib flags').map((flag) => oneOf('fib flag', FIB_FLAGS, flag));
const fibResult = (f: { result: unknown }) => oneOf('fib result', FIB_RESULTS, f.result);

const FIELDS: Renderers<Field> = {
  meta: {
    text: (f) => {
      const key = metaKey(f);
      return key === 'iifname' || key === 'oifname' ? key : `meta ${key}`;
    },
    json: (f) => ({ meta: { key: metaKey(f) } }),
  },
  ct: { text: (f) => `ct ${ctKey(f)}`, json: (f) => ({ ct: { key: ctKey(f) } }) },
  address: {
    text: (f) => `${ipKeyword(f.family)} ${addressField(f)}`,
    json: (f) => ({ payload: { protocol: ipKeyword(f.family), field: addressField(f) } }),
  },
  port: {
    text: (f) => `${portProtocol(f)} ${portField(f)}`,
    json: (f) => ({ payload: { protocol: portProtocol(f), field: portField(f) } }),
  },
  'tcp flags': { text: () => 'tcp flags', json: () => ({ payload: { protocol: 'tcp', field: 'flags' } }) },
  fib: {
    text: (f) => `fib ${fibFlags(f).join(' . ')} ${fibResult(f)}`,
    json: (f) => ({ fib: { result: fibResult(f), flags: fibFlags(f) } }),
  },
  'rt mtu': { text: () => 'rt mtu', json: () => ({ rt: { key: 'mtu' } }) },
  'rt nexthop': { text: (f) => `rt ${ipKeyword(f.family)} nexthop`, json: (f) => ({ rt: { key: 'nexthop', family: ipKeyword(f.family) } }) },
  'ether saddr': { text: () => 'ether saddr', json: () => ({ payload: { protocol: 'ether', field: 'saddr' } }) },
  'tcp mss': { text: () => 'tcp option maxseg size', json: () => ({ 'tcp option': { name: 'maxseg', field: 'size' } }) },
};

const bitwiseOp = (e: { op: unknown }) => oneOf('operator', ['&', '|'] as const, e.op);

const EXPRS: Renderers<Expr> = {
  ...FIELDS,
  bitwise: {
    text: (e) => `${exprText(e.left)} ${bitwiseOp(e)} ${hexText(u32(e.right, 'bit mask'))}`,
    json: (e) => ({ [bitwiseOp(e)]: [exprJson(e.left), u32(e.right, 'bit mask')] }),
  },
};

const exprText = (e: Expr): string => formsOf('expression', EXPRS, e).text(e, false);
const exprJson = (e: Expr): Json => formsOf('expression', EXPRS, e).json(e, false);
const fieldText = (f: Field): string => formsOf('field', FIELDS, f).text(f, false);
const fieldJson = (f: Field): Json => formsOf('field', FIELDS, f).json(f, false);

/** Marks read as bit patterns: their numbers are written in hex. */
function isMark(e: Expr): boolean {
  if (e.kind === 'bitwise') return isMark(e.left);
  return (e.kind === 'meta' || e.kind === 'ct') && e.key === 'mark';
}

// ---- values ----

const symbol = (name: unknown) => oneOf('keyword', ALL_SYMBOLS, name);
const flagNames = (v: { names: unknown }) => nonEmpty(v.names, 'flag list').map(symbol);
const ipAddressOf = (v: { family: unknown; address: unknown }) => address(v.address, familyOf(v.family));
const setItems = (v: { items: unknown }) =>
  nonEmpty(v.items, 'anonymous set').map((item) => (isValue(item) && item.kind !== 'anonymous set' ? item : refuse('anonymous set item', item)));

const VALUES: Renderers<Value> = {
  number: { text: (v, hex) => (hex ? hexText(u32(v.value)) : String(u32(v.value))), json: (v) => u32(v.value) },
  interface: { text: (v) => `"${interfaceName(v.name)}"`, json: (v) => interfaceName(v.name) },
  symbol: { text: (v) => symbol(v.name), json: (v) => symbol(v.name) },
  flags: {
    text: (v) => flagNames(v).join(','),
    json: (v) => {
      const names = flagNames(v);
      return names.length === 1 ? names[0]! : names;
    },
  },
  ip: {
    text: (v) => (v.prefix === undefined ? ipAddressOf(v) : `${ipAddressOf(v)}/${prefixLength(v.prefix, familyOf(v.family))}`),
    json: (v) => (v.prefix === undefined ? ipAddressOf(v) : { prefix: { addr: ipAddressOf(v), len: prefixLength(v.prefix, familyOf(v.family)) } }),
  },
  mac: { text: (v) => macAddress(v.address), json: (v) => macAddress(v.address) },
  'named set': { text: (v) => `@${identifier(v.name, 'set name')}`, json: (v) => `@${identifier(v.name, 'set name')}` },
  'anonymous set': {
    text: (v, hex) =>
      `{ ${setItems(v)
        .map((i) => valueText(i, hex))
        .join(', ')} }`,
    json: (v, hex) => ({ set: setItems(v).map((i) => valueJson(i, hex)) }),
  },
};

function isValue(x: unknown): x is Value {
  return typeof x === 'object' && x !== null && Object.hasOwn(VALUES, (x as { kind?: unknown }).kind as string);
}

const valueText = (v: Value, hex: boolean): string => formsOf('value', VALUES, v).text(v, hex);
const valueJson = (v: Value, hex: boolean): Json => formsOf('value', VALUES, v).json(v, hex);

// ---- statements and rules ----

/** Fields a `set` statement may write. */
const SETTABLE = new Set(['meta mark', 'ct mark', 'tcp option maxseg size']);

const matchOp = (s: Extract<Statement, { kind: 'match' }>) => {
  const op = oneOf('operator', ['==', '!='] as const, s.op);
  // A flag list means "any of these bits": nft text writes no operator, JSON writes `in`.
  if (typeof s.right === 'object' && s.right !== null && s.right.kind === 'flags') return op === '==' ? 'in' : refuse('operator for a flag list', op);
  return op;
};

const setTarget = (s: Extract<Statement, { kind: 'set' }>) => {
  const text = fieldText(s.target);
  return SETTABLE.has(text) ? text : refuse('field to set', text);
};

const snatAddress = (s: Extract<Statement, { kind: 'snat' }>) => {
  const to = s.to;
  if (!isValue(to) || to.kind !== 'ip' || to.prefix !== undefined || to.family !== familyOf(s.family)) return refuse(`snat target of family ${String(s.family)}`, to);
  return ipAddressOf(to);
};

const dnatAddress = (s: Extract<Statement, { kind: 'dnat' }>) => {
  const to = s.to;
  if (!isValue(to) || to.kind !== 'ip' || to.prefix !== undefined || to.family !== familyOf(s.family)) return refuse(`dnat target of family ${String(s.family)}`, to);
  return ipAddressOf(to);
};
const dnatPort = (s: Extract<Statement, { kind: 'dnat' }>) => (Number.isInteger(s.port) && s.port >= 1 && s.port <= 65535 ? s.port : refuse('dnat port', s.port));

const verdictOf = (s: { verdict: unknown }) => oneOf('verdict', ['accept', 'drop', 'return'] as const, s.verdict);

const STATEMENTS: Renderers<Statement> = {
  match: {
    text: (s) => {
      const left = exprText(s.left);
      const op = matchOp(s);
      // nft text leaves `==` implicit, except after a mask (`meta mark & 0xff00 == 0x100`).
      const textOp = op === '!=' ? ' !=' : op === '==' && s.left.kind === 'bitwise' ? ' ==' : '';
      return `${left}${textOp} ${valueText(s.right, isMark(s.left))}`;
    },
    json: (s) => ({ match: { op: matchOp(s), left: exprJson(s.left), right: valueJson(s.right, isMark(s.left)) } }),
  },
  counter: { text: () => 'counter', json: () => ({ counter: { packets: 0, bytes: 0 } }) },
  set: {
    text: (s) => `${setTarget(s)} set ${isValue(s.value) ? valueText(s.value, isMark(s.target)) : exprText(s.value)}`,
    json: (s) => {
      setTarget(s);
      return { mangle: { key: fieldJson(s.target), value: isValue(s.value) ? valueJson(s.value, isMark(s.target)) : exprJson(s.value) } };
    },
  },
  snat: {
    text: (s) => `snat ${ipKeyword(s.family)} to ${snatAddress(s)}`,
    json: (s) => ({ snat: { family: ipKeyword(s.family), addr: snatAddress(s) } }),
  },
  'snat to source': {
    text: (s) => `snat ${ipKeyword(s.family)} to ${ipKeyword(s.family)} saddr`,
    json: (s) => ({ snat: { family: ipKeyword(s.family), addr: { payload: { protocol: ipKeyword(s.family), field: 'saddr' } } } }),
  },
  masquerade: { text: () => 'masquerade', json: () => ({ masquerade: null }) },
  dnat: {
    text: (s) => `dnat ${ipKeyword(s.family)} to ${familyOf(s.family) === 6 ? `[${dnatAddress(s)}]` : dnatAddress(s)}:${dnatPort(s)}`,
    json: (s) => ({ dnat: { family: ipKeyword(s.family), addr: dnatAddress(s), port: dnatPort(s) } }),
  },
  reject: {
    text: (s) => `reject with ${oneOf('reject answer', REJECT_WITH, s.with)}`,
    json: (s): Json => (oneOf('reject answer', REJECT_WITH, s.with) === 'tcp reset' ? { reject: { type: 'tcp reset' } } : { reject: { type: 'icmpx', expr: 'admin-prohibited' } }),
  },
  limit: {
    text: (s) => `limit rate ${u32(s.rate, 'rate')}/second burst ${u32(s.burst, 'burst')} packets`,
    json: (s) => ({ limit: { rate: u32(s.rate, 'rate'), burst: u32(s.burst, 'burst'), per: 'second' } }),
  },
  log: {
    text: (s) => `log prefix "${logPrefix(s.prefix)}"${s.group === undefined ? '' : ` group ${logGroup(s.group)}`}`,
    json: (s) => ({ log: { prefix: logPrefix(s.prefix), ...(s.group === undefined ? {} : { group: logGroup(s.group) }) } }),
  },
  verdict: { text: (s) => verdictOf(s), json: (s) => ({ [verdictOf(s)]: null }) },
};

const statementsOf = (rule: NftRule) => nonEmpty(rule?.statements, 'statement list') as readonly Statement[];

/** The rule as nft text, as written in a chain. */
export function ruleText(rule: NftRule): string {
  const text = statementsOf(rule)
    .map((s) => formsOf('statement', STATEMENTS, s).text(s, false))
    .join(' ');
  return rule.comment === undefined ? text : `${text} comment "${comment(rule.comment)}"`;
}

/** The rule as libnftables JSON: its `expr` list and comment. */
export function ruleJson(rule: NftRule): { readonly expr: readonly Json[]; readonly comment?: string } {
  const expr = statementsOf(rule).map((s) => formsOf('statement', STATEMENTS, s).json(s, false));
  return rule.comment === undefined ? { expr } : { expr, comment: comment(rule.comment) };
}

// ---- chains, sets, tables ----

/** A chain without a hook: nothing runs it unless a rule jumps to it. */
export interface RegularChain {
  readonly name: string;
  readonly rules: readonly NftRule[];
}

export interface TableOptions {
  /** `size` of the named sets (nft's preallocation hint, and a hard limit). */
  readonly setSizes?: ReadonlyMap<string, number>;
  /** Chains to add after the plan's own. */
  readonly regularChains?: readonly RegularChain[];
  /** Learned addresses to put into the new table's timeout sets in the same transaction. */
  readonly learned?: readonly LearnedElementWrite[];
}

const CHAIN_TYPES = ['filter', 'nat'] as const;
const HOOKS = ['prerouting', 'input', 'forward', 'output', 'postrouting'] as const;
const SET_TYPES = ['ipv4_addr', 'ipv6_addr'] as const;
const SET_FAMILY: Readonly<Record<NftSet['type'], Family>> = { ipv4_addr: 4, ipv6_addr: 6 };

function priority(p: ChainPriority): { text: string; json: number } {
  const base = oneOf('priority', Object.keys(PRIORITY_BASES) as (keyof typeof PRIORITY_BASES)[], p?.base);
  const offset = typeof p.offset === 'number' && Number.isInteger(p.offset) && Math.abs(p.offset) <= 1000 ? p.offset : refuse('priority offset', p.offset);
  const text = offset === 0 ? base : `${base} ${offset < 0 ? '-' : '+'} ${Math.abs(offset)}`;
  return { text, json: PRIORITY_BASES[base] + offset };
}

function chainHead(chain: NftChain): { name: string; type: string; hook: string; priority: { text: string; json: number } } {
  return {
    name: identifier(chain.name, 'chain name'),
    type: oneOf('chain type', CHAIN_TYPES, chain.type),
    hook: oneOf('hook', HOOKS, chain.hook),
    priority: priority(chain.priority),
  };
}

function setHead(set: NftSet, size: number | undefined): { name: string; type: NftSet['type']; interval: boolean; learned: boolean; size?: number } {
  const head = { name: identifier(set.name, 'set name'), type: oneOf('set type', SET_TYPES, set.type), interval: set.interval === true, learned: set.learned === true };
  return size === undefined ? head : { ...head, size: u32(size, 'set size') };
}

function tableId(table: Pick<NftTablePlan, 'family' | 'name'>): { family: 'inet'; name: string } {
  return { family: oneOf('table family', ['inet'] as const, table.family), name: identifier(table.name, 'table name') };
}

const elementList = (elements: unknown): readonly unknown[] => (Array.isArray(elements) ? elements : refuse('element list', elements));

/** Every element checked (see setElement), in nft text. */
function elementsText(set: NftSet, elements: readonly string[]): string[] {
  const { type, interval } = setHead(set, undefined);
  return elementList(elements).map((e) => setElement(e, SET_FAMILY[type], interval));
}

/** Every element checked, in libnftables JSON: `a`, `{prefix}` for `a/n`, `{range}` for `a-b`. */
function elementsJson(set: NftSet, elements: readonly string[]): Json[] {
  const { type, interval } = setHead(set, undefined);
  const family = SET_FAMILY[type];
  elementList(elements);
  const out = new Array<Json>(elements.length);
  if (!interval) {
    for (let i = 0; i < elements.length; i++) out[i] = setElement(elements[i], family, false);
    return out;
  }
  for (let i = 0; i < elements.length; i++) {
    const e = setElement(elements[i], family, true);
    const slash = e.indexOf('/');
    const dash = e.indexOf('-'); // IPv6 addresses have no '-', so this is a range
    out[i] = slash > 0 ? { prefix: { addr: e.slice(0, slash), len: Number(e.slice(slash + 1)) } } : dash > 0 ? { range: [e.slice(0, dash), e.slice(dash + 1)] } : e;
  }
  return out;
}

/** A set's properties as nft text, one per line or `;`-separated. */
function setProperties(head: ReturnType<typeof setHead>): string[] {
  const out = [`type ${head.type}`];
  if (head.interval) out.push('flags interval');
  if (head.learned) out.push('flags timeout');
  if (head.size !== undefined) out.push(`size ${head.size}`);
  return out;
}

type TableIds = { readonly family: string; readonly table: string };

function setJson(ids: TableIds, set: NftSet, size: number | undefined, elements: readonly string[]): Json {
  const head = setHead(set, size);
  const out: { [key: string]: Json } = { ...ids, name: head.name, type: head.type };
  if (head.interval) out.flags = ['interval'];
  if (head.learned) out.flags = ['timeout'];
  if (head.size !== undefined) out.size = head.size;
  const elem = elementsJson(set, elements);
  if (elem.length > 0) out.elem = elem;
  return out;
}

function baseChainJson(ids: TableIds, chain: NftChain): Json {
  const head = chainHead(chain);
  return { ...ids, name: head.name, type: head.type, hook: head.hook, prio: head.priority.json, policy: 'accept' };
}

function baseChainText(head: ReturnType<typeof chainHead>): string {
  return `type ${head.type} hook ${head.hook} priority ${head.priority.text}; policy accept;`;
}

/** The table as `nft -f` text. Loading it after `add table` + `delete table` replaces it atomically. */
export function tableText(table: NftTablePlan, options: TableOptions = {}): string {
  const id = tableId(table);
  const parts = [`table ${id.family} ${id.name} {`];
  for (const set of table.sets) {
    const head = setHead(set, options.setSizes?.get(set.name));
    const lines = [`\tset ${head.name} {`, ...setProperties(head).map((p) => `\t\t${p}`)];
    const elements = elementsText(set, set.elements);
    if (elements.length > 0) lines.push(`\t\telements = { ${elements.join(',\n\t\t\t')} }`);
    lines.push('\t}');
    parts.push(lines.join('\n'));
  }
  for (const chain of table.chains) {
    const head = chainHead(chain);
    parts.push(`\tchain ${head.name} {`, `\t\t${baseChainText(head)}`);
    for (const rule of chain.rules) parts.push(`\t\t${ruleText(rule)}`);
    parts.push('\t}');
  }
  for (const chain of options.regularChains ?? []) {
    parts.push(`\tchain ${identifier(chain.name, 'chain name')} {`, ...chain.rules.map((rule) => `\t\t${ruleText(rule)}`), '\t}');
  }
  parts.push('}');
  for (const [name, list] of learnedBySet(options.learned ?? [])) {
    parts.push(learnedElementsText(`${id.family} ${id.name}`, name, list));
  }
  return `${parts.join('\n')}\n`;
}

/** One transaction that replaces the whole table, as nft text. */
export function replaceText(table: NftTablePlan, options: TableOptions = {}): string {
  const { family, name } = tableId(table);
  return `add table ${family} ${name}\ndelete table ${family} ${name}\n${tableText(table, options)}`;
}

function ruleCommands(ids: { family: string; table: string }, chain: string, rules: readonly NftRule[]): Json[] {
  return rules.map((rule) => ({ add: { rule: { ...ids, chain, ...ruleJson(rule) } } }));
}

/**
 * The same transaction as replaceText (`add table`, `delete table`, then every set, chain and
 * rule) as libnftables JSON, which libnftables parses in about half the time of the text at
 * 100k elements.
 */
export function replaceJson(table: NftTablePlan, options: TableOptions = {}): string {
  const id = tableId(table);
  const ids = { family: id.family, table: id.name };
  const commands: Json[] = [{ add: { table: id } }, { delete: { table: id } }, { add: { table: id } }];
  for (const set of table.sets) commands.push({ add: { set: setJson(ids, set, options.setSizes?.get(set.name), set.elements) } });
  const rules: Json[] = [];
  for (const chain of table.chains) {
    commands.push({ add: { chain: baseChainJson(ids, chain) } });
    rules.push(...ruleCommands(ids, identifier(chain.name, 'chain name'), chain.rules));
  }
  for (const chain of options.regularChains ?? []) {
    const name = identifier(chain.name, 'chain name');
    commands.push({ add: { chain: { ...ids, name } } });
    rules.push(...ruleCommands(ids, name, chain.rules));
  }
  // New sets: a plain add sets each learned element's timeout.
  for (const [name, list] of learnedBySet(options.learned ?? [])) commands.push({ add: { element: { ...ids, name, elem: timedElems(list, false) } } });
  return JSON.stringify({ nftables: [...commands, ...rules] });
}

/** Elements to take out of and put into one set. */
export interface ElementChange {
  readonly set: string;
  readonly add: readonly string[];
  readonly remove: readonly string[];
}

function changedSets(table: NftTablePlan, changes: readonly ElementChange[]): { change: ElementChange; set: NftSet }[] {
  const sets = new Map(table.sets.map((s) => [s.name, s]));
  return changes.map((change) => ({ change, set: sets.get(change.set) ?? refuse('set not in the table', change.set) }));
}

/**
 * One transaction of element commands, deletes before adds (so an interval can be swapped for an
 * overlapping one), as libnftables JSON. Every element is checked against its set's type.
 */
export function elementsBatchJson(table: NftTablePlan, changes: readonly ElementChange[]): { json: string; commands: number } {
  const commands = elementCommandsJson(table, changes);
  return { json: JSON.stringify({ nftables: commands }), commands: commands.length };
}

function elementCommandsJson(table: NftTablePlan, changes: readonly ElementChange[]): Json[] {
  const id = tableId(table);
  const target = (name: string) => ({ family: id.family, table: id.name, name: identifier(name, 'set name') });
  const commands: Json[] = [];
  const changed = changedSets(table, changes);
  for (const { change, set } of changed) if (change.remove.length > 0) commands.push({ delete: { element: { ...target(set.name), elem: elementsJson(set, change.remove) } } });
  for (const { change, set } of changed) if (change.add.length > 0) commands.push({ add: { element: { ...target(set.name), elem: elementsJson(set, change.add) } } });
  return commands;
}

/** One learned address: held in `set` for `timeoutSeconds` from now. */
export interface LearnedElementWrite {
  readonly set: string;
  readonly family: Family;
  readonly address: string;
  readonly timeoutSeconds: number;
  /** Kept on the element (which answer put it there); printable ASCII without quotes. */
  readonly comment?: string;
}

/**
 * How an element already in a timeout set gets a fresh timeout. `expires`: one add that also
 * sets the expiry (kernels with element timeout updates, 6.10 on; older ones ignore an add of an
 * element they hold). `readd`: add (so the delete finds every element), delete, add; the
 * transaction is atomic, so no packet sees the element missing. Either way the comment is the
 * new answer's only with `readd`: an update keeps the element's comment.
 */
export type LearnedRenewal = 'expires' | 'readd';

/** A learned element checked for the kernel: address, timeout in whole seconds, comment. */
export type LearnedElem = { value: string; timeout: number; comment?: string };

/** Learned elements checked and grouped by set (every write of them, in any form, goes through this). */
export function learnedBySet(elements: readonly LearnedElementWrite[]): Map<string, LearnedElem[]> {
  const bySet = new Map<string, LearnedElem[]>();
  for (const e of elements) {
    const name = identifier(e.set, 'set name');
    if (e.family !== 4 && e.family !== 6) refuse('address family', e.family);
    const value = setElement(e.address, e.family, false);
    if (e.comment !== undefined && (!/^[\x20-\x7e]{0,128}$/.test(e.comment) || /["\\]/.test(e.comment))) refuse('element comment', e.comment);
    const list = bySet.get(name) ?? [];
    list.push({ value, timeout: u32(Math.ceil(e.timeoutSeconds), 'element timeout'), ...(e.comment ? { comment: e.comment } : {}) });
    bySet.set(name, list);
  }
  return bySet;
}

function learnedElementsText(table: string, set: string, list: readonly LearnedElem[]): string {
  return `add element ${table} ${set} { ${list.map((e) => `${e.value} timeout ${e.timeout}s${e.comment ? ` comment "${e.comment}"` : ''}`).join(', ')} }`;
}

function timedElems(list: readonly LearnedElem[], expires: boolean): Json[] {
  return list.map((e) => ({ elem: { val: e.value, timeout: e.timeout, ...(expires ? { expires: e.timeout } : {}), ...(e.comment ? { comment: e.comment } : {}) } }));
}

/** One transaction that puts learned addresses into their timeout sets with a fresh timeout. */
export function learnedElementsJson(table: Pick<NftTablePlan, 'family' | 'name'>, elements: readonly LearnedElementWrite[], renewal: LearnedRenewal): string {
  const id = tableId(table);
  const commands: Json[] = [];
  for (const [name, list] of learnedBySet(elements)) {
    const target = { family: id.family, table: id.name, name };
    if (renewal === 'expires') commands.push({ add: { element: { ...target, elem: timedElems(list, true) } } });
    else
      commands.push(
        { add: { element: { ...target, elem: timedElems(list, false) } } },
        { delete: { element: { ...target, elem: list.map((e) => e.value) } } },
        { add: { element: { ...target, elem: timedElems(list, false) } } },
      );
  }
  return JSON.stringify({ nftables: commands });
}

/**
 * One transaction that takes learned addresses out of their timeout sets now: add (1 s, so the
 * delete finds an element that already expired), then delete.
 */
export function forgottenElementsJson(table: Pick<NftTablePlan, 'family' | 'name'>, elements: readonly Omit<LearnedElementWrite, 'timeoutSeconds' | 'comment'>[]): string {
  const id = tableId(table);
  const bySet = new Map<string, string[]>();
  for (const e of elements) {
    const name = identifier(e.set, 'set name');
    if (e.family !== 4 && e.family !== 6) refuse('address family', e.family);
    bySet.set(name, [...(bySet.get(name) ?? []), setElement(e.address, e.family, false) as string]);
  }
  const commands: Json[] = [];
  for (const [name, values] of bySet) {
    const target = { family: id.family, table: id.name, name };
    commands.push({ add: { element: { ...target, elem: values.map((val) => ({ elem: { val, timeout: 1 } })) } } }, { delete: { element: { ...target, elem: values } } });
  }
  return JSON.stringify({ nftables: commands });
}

/** The same element commands as nft text, for people and error messages. */
export function elementsBatchText(table: NftTablePlan, changes: readonly ElementChange[]): string {
  return `${elementLinesText(table, changes).join('\n')}\n`;
}

function elementLinesText(table: NftTablePlan, changes: readonly ElementChange[]): string[] {
  const id = tableId(table);
  const lines: string[] = [];
  const changed = changedSets(table, changes);
  const target = (set: NftSet) => `${id.family} ${id.name} ${identifier(set.name, 'set name')}`;
  for (const { change, set } of changed) if (change.remove.length > 0) lines.push(`delete element ${target(set)} { ${elementsText(set, change.remove).join(', ')} }`);
  for (const { change, set } of changed) if (change.add.length > 0) lines.push(`add element ${target(set)} { ${elementsText(set, change.add).join(', ')} }`);
  return lines;
}

// ---- restructuring a table in place ----

/**
 * A new structure for a live table whose sets stay: their elements are not sent again (a
 * rule change at 100k endpoints costs what the rules cost, not a reload of every set). In one
 * transaction: every chain the table has now is flushed (so nothing jumps to or looks up what
 * goes next), the chains and sets the new table has not, or has with another head, are deleted,
 * the new sets added empty, the element changes made (deletes first), the new chains added, then
 * every chain's rules.
 */
export interface Restructure {
  readonly to: NftTablePlan;
  readonly flushChains: readonly string[];
  readonly deleteChains: readonly string[];
  readonly deleteSets: readonly string[];
  readonly addSets: readonly NftSet[];
  readonly addChains: readonly NftChain[];
  /** Element changes of the sets kept and the elements of the sets added. */
  readonly changes: readonly ElementChange[];
}

/** The commands of a restructure, in libnftables JSON; `options` as for a replace (sizes of the added sets, regular chains, learned elements of the added sets). */
export function restructureJson(r: Restructure, options: TableOptions = {}): { json: string; commands: number } {
  const id = tableId(r.to);
  const ids = { family: id.family, table: id.name };
  const chainId = (name: string) => ({ ...ids, name: identifier(name, 'chain name') });
  const setId = (name: string) => ({ ...ids, name: identifier(name, 'set name') });
  const commands: Json[] = [];
  for (const name of r.flushChains) commands.push({ flush: { chain: chainId(name) } });
  for (const name of r.deleteChains) commands.push({ delete: { chain: chainId(name) } });
  for (const name of r.deleteSets) commands.push({ delete: { set: setId(name) } });
  for (const set of r.addSets) commands.push({ add: { set: setJson(ids, set, options.setSizes?.get(set.name), []) } });
  commands.push(...elementCommandsJson(r.to, r.changes));
  for (const chain of r.addChains) commands.push({ add: { chain: baseChainJson(ids, chain) } });
  for (const chain of r.to.chains) commands.push(...ruleCommands(ids, identifier(chain.name, 'chain name'), chain.rules));
  for (const chain of options.regularChains ?? []) {
    commands.push({ add: { chain: chainId(chain.name) } }, ...ruleCommands(ids, identifier(chain.name, 'chain name'), chain.rules));
  }
  for (const [name, list] of learnedBySet(options.learned ?? [])) commands.push({ add: { element: { ...ids, name, elem: timedElems(list, false) } } });
  return { json: JSON.stringify({ nftables: commands }), commands: commands.length };
}

/** The same transaction as restructureJson, as nft text. */
export function restructureText(r: Restructure, options: TableOptions = {}): string {
  const id = tableId(r.to);
  const at = `${id.family} ${id.name}`;
  const lines: string[] = [];
  for (const name of r.flushChains) lines.push(`flush chain ${at} ${identifier(name, 'chain name')}`);
  for (const name of r.deleteChains) lines.push(`delete chain ${at} ${identifier(name, 'chain name')}`);
  for (const name of r.deleteSets) lines.push(`delete set ${at} ${identifier(name, 'set name')}`);
  for (const set of r.addSets) {
    const head = setHead(set, options.setSizes?.get(set.name));
    lines.push(`add set ${at} ${head.name} { ${setProperties(head).join('; ')}; }`);
  }
  lines.push(...elementLinesText(r.to, r.changes));
  for (const chain of r.addChains) {
    const head = chainHead(chain);
    lines.push(`add chain ${at} ${head.name} { ${baseChainText(head)} }`);
  }
  const rules = (chain: { readonly name: string; readonly rules: readonly NftRule[] }) =>
    chain.rules.map((rule) => `add rule ${at} ${identifier(chain.name, 'chain name')} ${ruleText(rule)}`);
  for (const chain of r.to.chains) lines.push(...rules(chain));
  for (const chain of options.regularChains ?? []) lines.push(`add chain ${at} ${identifier(chain.name, 'chain name')}`, ...rules(chain));
  for (const [name, list] of learnedBySet(options.learned ?? [])) {
    lines.push(learnedElementsText(at, name, list));
  }
  return `${lines.join('\n')}\n`;
}

/** Deletes our table, and only it, as libnftables JSON. */
export function deleteTableJson(table: Pick<NftTablePlan, 'family' | 'name'>): string {
  return JSON.stringify({ nftables: [{ delete: { table: tableId(table) } }] });
}

export function deleteTableText(table: Pick<NftTablePlan, 'family' | 'name'>): string {
  const { family, name } = tableId(table);
  return `delete table ${family} ${name}\n`;
}
