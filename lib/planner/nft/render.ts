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
import { address, comment, identifier, interfaceName, oneOf, prefixLength, setElement, u32 } from './values.js';
import {
  ADDRESS_FIELDS,
  ALL_SYMBOLS,
  CT_KEYS,
  META_KEYS,
  PORT_FIELDS,
  PRIORITY_BASES,
  type ChainPriority,
  type Expr,
  type Field,
  type NftRule,
  type Statement,
  type Value,
} from './vocabulary.js';

export type Json = string | number | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** One piece in both forms. */
interface Both {
  readonly text: string;
  readonly json: Json;
}

/** A renderer per variant: a new variant does not compile until it has one. */
type Renderers<U extends { readonly kind: string }> = { readonly [K in U['kind']]: (x: Extract<U, { readonly kind: K }>) => Both };

function refuse(what: string, value: unknown): never {
  throw new EgressError('EGW_ERR_NFT_VALUE', `${what} ${JSON.stringify(value)?.slice(0, 80) ?? String(value)} is not part of the nft vocabulary`);
}

function dispatch<U extends { readonly kind: string }>(what: string, renderers: Renderers<U>, x: U): Both {
  const kind: unknown = typeof x === 'object' && x !== null ? x.kind : undefined;
  if (typeof kind !== 'string' || !Object.hasOwn(renderers, kind)) return refuse(what, kind ?? x);
  return (renderers as unknown as Record<string, (x: U) => Both>)[kind]!(x);
}

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const familyOf = (f: unknown): Family => (f === 4 || f === 6 ? f : refuse('address family', f));
const ipKeyword = (f: Family) => (f === 4 ? 'ip' : 'ip6');

// ---- fields and expressions ----

const FIELDS: Renderers<Field> = {
  meta: (f) => {
    const key = oneOf('meta key', META_KEYS, f.key);
    return { text: key === 'iifname' || key === 'oifname' ? key : `meta ${key}`, json: { meta: { key } } };
  },
  ct: (f) => {
    const key = oneOf('ct key', CT_KEYS, f.key);
    return { text: `ct ${key}`, json: { ct: { key } } };
  },
  address: (f) => {
    const protocol = ipKeyword(familyOf(f.family));
    const field = oneOf('address field', ADDRESS_FIELDS, f.field);
    return { text: `${protocol} ${field}`, json: { payload: { protocol, field } } };
  },
  port: (f) => {
    const protocol = oneOf('protocol', ['tcp', 'udp'] as const, f.protocol);
    const field = oneOf('port field', PORT_FIELDS, f.field);
    return { text: `${protocol} ${field}`, json: { payload: { protocol, field } } };
  },
  'tcp flags': () => ({ text: 'tcp flags', json: { payload: { protocol: 'tcp', field: 'flags' } } }),
  'rt mtu': () => ({ text: 'rt mtu', json: { rt: { key: 'mtu' } } }),
  'tcp mss': () => ({ text: 'tcp option maxseg size', json: { 'tcp option': { name: 'maxseg', field: 'size' } } }),
};

function expr(e: Expr): Both {
  if (typeof e === 'object' && e !== null && e.kind === 'bitwise') {
    const op = oneOf('operator', ['&', '|'] as const, e.op);
    const left = expr(e.left);
    const right = u32(e.right, 'bit mask');
    return { text: `${left.text} ${op} ${hex(right)}`, json: { [op]: [left.json, right] } };
  }
  return dispatch('field', FIELDS, e);
}

/** Marks read as bit patterns: their numbers are written in hex. */
function isMark(e: Expr): boolean {
  if (e.kind === 'bitwise') return isMark(e.left);
  return (e.kind === 'meta' || e.kind === 'ct') && e.key === 'mark';
}

// ---- values ----

function values(vs: unknown, what: string): readonly unknown[] {
  return Array.isArray(vs) && vs.length > 0 ? vs : refuse(what, vs);
}

function valueRenderers(hexNumbers: boolean): Renderers<Value> {
  return {
    number: (v) => {
      const n = u32(v.value);
      return { text: hexNumbers ? hex(n) : String(n), json: n };
    },
    interface: (v) => {
      const name = interfaceName(v.name);
      return { text: `"${name}"`, json: name };
    },
    symbol: (v) => {
      const name = oneOf('keyword', ALL_SYMBOLS, v.name);
      return { text: name, json: name };
    },
    flags: (v) => {
      const names = values(v.names, 'flag list').map((n) => oneOf('flag', ALL_SYMBOLS, n));
      return { text: names.join(','), json: names.length === 1 ? names[0]! : names };
    },
    ip: (v) => {
      const family = familyOf(v.family);
      const addr = address(v.address, family);
      if (v.prefix === undefined) return { text: addr, json: addr };
      const len = prefixLength(v.prefix, family);
      return { text: `${addr}/${len}`, json: { prefix: { addr, len } } };
    },
    'named set': (v) => {
      const name = identifier(v.name, 'set name');
      return { text: `@${name}`, json: `@${name}` };
    },
    'anonymous set': (v) => {
      const items = values(v.items, 'anonymous set').map((item) => (isValue(item) && item.kind !== 'anonymous set' ? value(item, hexNumbers) : refuse('anonymous set item', item)));
      return { text: `{ ${items.map((i) => i.text).join(', ')} }`, json: { set: items.map((i) => i.json) } };
    },
  };
}

const VALUES = { hex: valueRenderers(true), decimal: valueRenderers(false) };
const VALUE_KINDS = new Set(Object.keys(VALUES.hex));

function isValue(x: unknown): x is Value {
  return typeof x === 'object' && x !== null && VALUE_KINDS.has((x as { kind?: unknown }).kind as string);
}

function value(v: Value, hexNumbers: boolean): Both {
  return dispatch('value', hexNumbers ? VALUES.hex : VALUES.decimal, v);
}

// ---- statements and rules ----

/** Fields a `set` statement may write. */
const SETTABLE = new Set(['meta mark', 'ct mark', 'tcp option maxseg size']);

const STATEMENTS: Renderers<Statement> = {
  match: (s) => {
    const left = expr(s.left);
    const op = oneOf('operator', ['==', '!='] as const, s.op);
    const right = value(s.right, isMark(s.left));
    const flags = s.right.kind === 'flags';
    if (flags && op !== '==') return refuse('operator for a flag list', op);
    // nft text leaves `==` implicit, except after a mask (`meta mark & 0xff00 == 0x100`); a flag
    // list with no operator means "any of these bits", which JSON spells `in`.
    const textOp = op === '!=' ? ' !=' : s.left.kind === 'bitwise' ? ' ==' : '';
    return { text: `${left.text}${textOp} ${right.text}`, json: { match: { op: flags ? 'in' : op, left: left.json, right: right.json } } };
  },
  counter: () => ({ text: 'counter', json: { counter: { packets: 0, bytes: 0 } } }),
  set: (s) => {
    const target = dispatch('field', FIELDS, s.target);
    if (!SETTABLE.has(target.text)) return refuse('field to set', target.text);
    const v = isValue(s.value) ? value(s.value, isMark(s.target)) : expr(s.value);
    return { text: `${target.text} set ${v.text}`, json: { mangle: { key: target.json, value: v.json } } };
  },
  snat: (s) => {
    const family = familyOf(s.family);
    if (!isValue(s.to) || s.to.kind !== 'ip' || s.to.prefix !== undefined || s.to.family !== family) return refuse(`snat target of family ${family}`, s.to);
    const to = value(s.to, false);
    return { text: `snat ${ipKeyword(family)} to ${to.text}`, json: { snat: { family: ipKeyword(family), addr: to.json } } };
  },
  masquerade: () => ({ text: 'masquerade', json: { masquerade: null } }),
  verdict: (s) => {
    const verdict = oneOf('verdict', ['accept', 'drop', 'return'] as const, s.verdict);
    return { text: verdict, json: { [verdict]: null } };
  },
};

/** A rule in both forms: its text (as written in a chain) and its JSON `expr` and comment. */
export function renderRule(rule: NftRule): { readonly text: string; readonly expr: readonly Json[]; readonly comment?: string } {
  const statements = values(rule?.statements, 'statement list').map((s) => dispatch('statement', STATEMENTS, s as Statement));
  const text = statements.map((s) => s.text).join(' ');
  if (rule.comment === undefined) return { text, expr: statements.map((s) => s.json) };
  const note = comment(rule.comment);
  return { text: `${text} comment "${note}"`, expr: statements.map((s) => s.json), comment: note };
}

/** The rule as nft text. */
export function ruleText(rule: NftRule): string {
  return renderRule(rule).text;
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

function setHead(set: NftSet, size: number | undefined): { name: string; type: NftSet['type']; interval: boolean; size?: number } {
  const head = { name: identifier(set.name, 'set name'), type: oneOf('set type', SET_TYPES, set.type), interval: set.interval === true };
  return size === undefined ? head : { ...head, size: u32(size, 'set size') };
}

function tableId(table: Pick<NftTablePlan, 'family' | 'name'>): { family: 'inet'; name: string } {
  return { family: oneOf('table family', ['inet'] as const, table.family), name: identifier(table.name, 'table name') };
}

/** Every element checked (see setElement), in nft text. */
function elementsText(set: NftSet, elements: readonly string[]): string[] {
  const family = SET_FAMILY[set.type];
  return elements.map((e) => setElement(e, family, set.interval));
}

/** Every element checked, in libnftables JSON: `a`, `{prefix}` for `a/n`, `{range}` for `a-b`. */
function elementsJson(set: NftSet, elements: readonly string[]): Json[] {
  const family = SET_FAMILY[set.type];
  const out: Json[] = new Array(elements.length);
  if (!set.interval) {
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

/** The table as `nft -f` text. Loading it after `add table` + `delete table` replaces it atomically. */
export function tableText(table: NftTablePlan, options: TableOptions = {}): string {
  const id = tableId(table);
  const parts = [`table ${id.family} ${id.name} {`];
  for (const set of table.sets) {
    const head = setHead(set, options.setSizes?.get(set.name));
    const lines = [`\tset ${head.name} {`, `\t\ttype ${head.type}`];
    if (head.interval) lines.push('\t\tflags interval');
    if (head.size !== undefined) lines.push(`\t\tsize ${head.size}`);
    if (set.elements.length > 0) lines.push(`\t\telements = { ${elementsText(set, set.elements).join(',\n\t\t\t')} }`);
    lines.push('\t}');
    parts.push(lines.join('\n'));
  }
  for (const chain of table.chains) {
    const head = chainHead(chain);
    parts.push(`\tchain ${head.name} {`, `\t\ttype ${head.type} hook ${head.hook} priority ${head.priority.text}; policy accept;`);
    for (const rule of chain.rules) parts.push(`\t\t${ruleText(rule)}`);
    parts.push('\t}');
  }
  for (const chain of options.regularChains ?? []) {
    parts.push(`\tchain ${identifier(chain.name, 'chain name')} {`, ...chain.rules.map((rule) => `\t\t${ruleText(rule)}`), '\t}');
  }
  parts.push('}');
  return `${parts.join('\n')}\n`;
}

/** One transaction that replaces the whole table, as nft text. */
export function replaceText(table: NftTablePlan, options: TableOptions = {}): string {
  const { family, name } = tableId(table);
  return `add table ${family} ${name}\ndelete table ${family} ${name}\n${tableText(table, options)}`;
}

function ruleCommands(ids: { family: string; table: string }, chain: string, rules: readonly NftRule[]): Json[] {
  return rules.map((rule) => {
    const r = renderRule(rule);
    return { add: { rule: { ...ids, chain, expr: r.expr, ...(r.comment !== undefined ? { comment: r.comment } : {}) } } };
  });
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
  for (const set of table.sets) {
    const head = setHead(set, options.setSizes?.get(set.name));
    const out: { [key: string]: Json } = { ...ids, name: head.name, type: head.type };
    if (head.interval) out.flags = ['interval'];
    if (head.size !== undefined) out.size = head.size;
    if (set.elements.length > 0) out.elem = elementsJson(set, set.elements);
    commands.push({ add: { set: out } });
  }
  const rules: Json[] = [];
  for (const chain of table.chains) {
    const head = chainHead(chain);
    commands.push({ add: { chain: { ...ids, name: head.name, type: head.type, hook: head.hook, prio: head.priority.json, policy: 'accept' } } });
    rules.push(...ruleCommands(ids, head.name, chain.rules));
  }
  for (const chain of options.regularChains ?? []) {
    const name = identifier(chain.name, 'chain name');
    commands.push({ add: { chain: { ...ids, name } } });
    rules.push(...ruleCommands(ids, name, chain.rules));
  }
  return JSON.stringify({ nftables: [...commands, ...rules] });
}

/**
 * Everything of the table but set elements and sizes, in the JSON form the kernel is given:
 * what the structure fingerprint hashes. Key order is fixed here, whatever the plan's.
 */
export function structureJson(table: NftTablePlan): string {
  const id = tableId(table);
  return JSON.stringify({
    table: id,
    sets: table.sets.map((s) => {
      const head = setHead(s, undefined);
      return [head.name, head.type, head.interval];
    }),
    chains: table.chains.map((c) => {
      const head = chainHead(c);
      return [head.name, head.type, head.hook, head.priority.json, c.rules.map((r) => {
        const rendered = renderRule(r);
        return [rendered.expr, rendered.comment ?? null];
      })];
    }),
  });
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
  const id = tableId(table);
  const target = (name: string) => ({ family: id.family, table: id.name, name: identifier(name, 'set name') });
  const commands: Json[] = [];
  const changed = changedSets(table, changes);
  for (const { change, set } of changed) if (change.remove.length > 0) commands.push({ delete: { element: { ...target(set.name), elem: elementsJson(set, change.remove) } } });
  for (const { change, set } of changed) if (change.add.length > 0) commands.push({ add: { element: { ...target(set.name), elem: elementsJson(set, change.add) } } });
  return { json: JSON.stringify({ nftables: commands }), commands: commands.length };
}

/** The same element commands as nft text, for people and error messages. */
export function elementsBatchText(table: NftTablePlan, changes: readonly ElementChange[]): string {
  const id = tableId(table);
  const lines: string[] = [];
  const changed = changedSets(table, changes);
  const target = (set: NftSet) => `${id.family} ${id.name} ${identifier(set.name, 'set name')}`;
  for (const { change, set } of changed) if (change.remove.length > 0) lines.push(`delete element ${target(set)} { ${elementsText(set, change.remove).join(', ')} }`);
  for (const { change, set } of changed) if (change.add.length > 0) lines.push(`add element ${target(set)} { ${elementsText(set, change.add).join(', ')} }`);
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
