/**
 * nft rule text → libnftables JSON, for the vocabulary the planner writes: matches on meta, ct,
 * ip/ip6, tcp/udp fields (with `&` masks, sets, anonymous sets, flag lists), `counter`,
 * `meta|ct mark set …`, `tcp option maxseg size set rt mtu`, `snat`, verdicts and a trailing
 * comment. Anything else gives undefined, and the caller keeps the nft text: JSON is a faster
 * way to say the same thing (libnftables parses it in half the time at 100k set elements), never
 * the only way.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface RuleJson {
  readonly expr: JsonObject[];
  readonly comment?: string;
}

const TOKEN = /"[^"]*"|[{},]|[^\s{},"]+/g;
const NUMBER = /^(?:0x[0-9a-f]+|\d+)$/i;
const OPERATORS = new Set(['==', '!=', '<', '>', '<=', '>=']);
const VERDICTS = new Set(['accept', 'drop', 'return']);
const BINARY = new Set(['&', '|', '^']);

// Keys per selector that this translator knows nft's JSON names for.
const META_KEYS = new Set(['mark', 'iifname', 'oifname', 'l4proto', 'nfproto']);
const CT_KEYS = new Set(['direction', 'state', 'mark', 'status']);
const PAYLOAD_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  ip: new Set(['saddr', 'daddr']),
  ip6: new Set(['saddr', 'daddr']),
  tcp: new Set(['sport', 'dport', 'flags']),
  udp: new Set(['sport', 'dport']),
};
/** Bitmask fields: nft reads `tcp flags syn` as "any of these bits", `in` in JSON. */
const BITMASK = new Set(['tcp flags', 'ct state', 'ct status']);

class Tokens {
  #at = 0;
  constructor(private readonly list: readonly string[]) {}
  peek(offset = 0): string | undefined {
    return this.list[this.#at + offset];
  }
  next(): string | undefined {
    return this.list[this.#at++];
  }
  skip(count: number): void {
    this.#at += count;
  }
  get done(): boolean {
    return this.#at >= this.list.length;
  }
}

/** Thrown inside the translator for text outside the vocabulary; never escapes this module. */
class Unsupported extends Error {}

const unsupported = (what: string): never => {
  throw new Unsupported(what);
};

const quoted = (token: string | undefined): string | undefined => (token && token.length >= 2 && token.startsWith('"') && token.endsWith('"') ? token.slice(1, -1) : undefined);

function number(token: string | undefined): number {
  if (token === undefined || !NUMBER.test(token)) return unsupported(`number expected, got ${token}`);
  const value = Number(token);
  if (!Number.isSafeInteger(value)) unsupported(`number out of range: ${token}`);
  return value;
}

/** A selector such as `iifname`, `meta mark`, `ct state`, `ip saddr`; undefined when none starts here. */
function selector(t: Tokens): { expr: JsonObject; name: string } | undefined {
  const first = t.peek();
  const second = t.peek(1) ?? '';
  if (first === 'iifname' || first === 'oifname') {
    t.skip(1);
    return { expr: { meta: { key: first } }, name: first };
  }
  if (first === 'meta' && META_KEYS.has(second)) {
    t.skip(2);
    return { expr: { meta: { key: second } }, name: `meta ${second}` };
  }
  if (first === 'ct' && CT_KEYS.has(second)) {
    t.skip(2);
    return { expr: { ct: { key: second } }, name: `ct ${second}` };
  }
  if (first === 'rt' && second === 'mtu') {
    t.skip(2);
    return { expr: { rt: { key: 'mtu' } }, name: 'rt mtu' };
  }
  if (first === 'tcp' && second === 'option') {
    if (t.peek(2) !== 'maxseg' || t.peek(3) !== 'size') return unsupported('tcp option other than maxseg size');
    t.skip(4);
    return { expr: { 'tcp option': { name: 'maxseg', field: 'size' } }, name: 'tcp option maxseg size' };
  }
  if (first !== undefined && PAYLOAD_FIELDS[first]?.has(second)) {
    t.skip(2);
    return { expr: { payload: { protocol: first, field: second } }, name: `${first} ${second}` };
  }
  return undefined;
}

/** A selector followed by any `& N`, `| N`, `^ N`, left to right as nft groups them. */
function operand(t: Tokens): { expr: JsonValue; name: string } | undefined {
  const base = selector(t);
  if (!base) return undefined;
  let expr: JsonValue = base.expr;
  while (BINARY.has(t.peek() ?? '')) {
    const op = t.next()!;
    expr = { [op]: [expr, number(t.next())] };
  }
  return { expr, name: base.name };
}

/** One right-hand value: a word, a quoted string, a number, `@set` or an address prefix. */
function scalar(token: string | undefined): JsonValue {
  if (token === undefined || token === '{' || token === '}' || token === ',') return unsupported(`value expected, got ${token}`);
  const text = quoted(token);
  if (text !== undefined) return text;
  if (NUMBER.test(token)) return number(token);
  const prefix = /^([0-9a-f.:]+)\/(\d+)$/i.exec(token);
  if (prefix) return { prefix: { addr: prefix[1]!, len: Number(prefix[2]) } };
  // Ranges and other forms with their own JSON shape are not needed by the planner.
  if (/[-/]/.test(token.replace(/^@/, ''))) return unsupported(`value ${token}`);
  return token;
}

/** The right side of a match: a value, `a,b,c` (flags) or `{ a, b }` (an anonymous set). */
function rightSide(t: Tokens): JsonValue {
  if (t.peek() === '{') {
    t.next();
    const items: JsonValue[] = [];
    for (;;) {
      items.push(scalar(t.next()));
      const sep = t.next();
      if (sep === '}') return { set: items };
      if (sep !== ',') return unsupported(`"," or "}" expected in a set, got ${sep}`);
    }
  }
  const first = scalar(t.next());
  if (t.peek() !== ',') return first;
  const list = [first];
  while (t.peek() === ',') {
    t.next();
    list.push(scalar(t.next()));
  }
  return list;
}

function statement(t: Tokens): JsonObject {
  const word = t.peek()!;
  if (word === 'counter') {
    t.next();
    return { counter: { packets: 0, bytes: 0 } };
  }
  if (VERDICTS.has(word)) {
    t.next();
    return { [word]: null };
  }
  if (word === 'snat') {
    t.next();
    const family = t.next();
    if ((family !== 'ip' && family !== 'ip6') || t.next() !== 'to') return unsupported('snat without "ip|ip6 to"');
    const addr = t.next();
    if (addr === undefined || !/^[0-9a-f.:]+$/i.test(addr)) return unsupported(`snat address ${addr}`);
    return { snat: { family, addr } };
  }
  const left = operand(t) ?? unsupported(`statement starting with ${word}`);
  if (t.peek() === 'set') {
    t.next();
    if (typeof left.expr !== 'object' || left.expr === null || Object.keys(left.expr).some((k) => BINARY.has(k))) return unsupported('set on a masked value');
    const value = NUMBER.test(t.peek() ?? '') ? number(t.next()) : (operand(t)?.expr ?? unsupported('value to set'));
    return { mangle: { key: left.expr, value } };
  }
  const explicit = OPERATORS.has(t.peek() ?? '') ? t.next()! : undefined;
  const op = explicit ?? (BITMASK.has(left.name) ? 'in' : '==');
  return { match: { op, left: left.expr, right: rightSide(t) } };
}

/** The rule as libnftables JSON, or undefined when it uses anything outside the vocabulary. */
export function ruleToJson(rule: string): RuleJson | undefined {
  const t = new Tokens(rule.match(TOKEN) ?? []);
  const expr: JsonObject[] = [];
  try {
    while (!t.done) {
      if (t.peek() === 'comment') {
        t.next();
        const comment = quoted(t.next());
        if (comment === undefined || !t.done || expr.length === 0) return undefined;
        return { expr, comment };
      }
      expr.push(statement(t));
    }
  } catch (err) {
    if (err instanceof Unsupported) return undefined;
    throw err;
  }
  return expr.length > 0 ? { expr } : undefined;
}

// Standard priorities of the inet family (nft(8), "CHAIN PRIORITIES").
const PRIORITIES: Readonly<Record<string, number>> = { raw: -300, mangle: -150, dstnat: -100, filter: 0, security: 50, srcnat: 100 };

/** A chain priority such as `mangle`, `srcnat - 10` or `-5` as a number; undefined otherwise. */
export function chainPriority(expression: string): number | undefined {
  const m = /^\s*(?:(-?\d+)|([a-z]+)(?:\s*([+-])\s*(\d+))?)\s*$/.exec(expression);
  if (!m) return undefined;
  if (m[1] !== undefined) return Number(m[1]);
  const base = PRIORITIES[m[2]!];
  if (base === undefined) return undefined;
  const offset = m[4] === undefined ? 0 : Number(m[4]);
  return m[3] === '-' ? base - offset : base + offset;
}
