import { EgressError } from '../../errors.js';
import type { NftCounter, ObservedChain, ObservedRule, ObservedSet, ObservedTimedElement } from './nft-types.js';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** A set element as libnftables JSON has it, in nft notation: `a`, `a/n` or `a-b`. */
export function elementText(elem: unknown): string {
  if (typeof elem === 'string' || typeof elem === 'number') return String(elem);
  if (isObject(elem)) {
    // `{"elem": {"val": ..., "timeout": ...}}` wraps an element that carries options.
    if (isObject(elem.elem)) return elementText(elem.elem.val);
    if (isObject(elem.prefix)) return `${elementText(elem.prefix.addr)}/${num(elem.prefix.len) ?? '?'}`;
    if (Array.isArray(elem.range) && elem.range.length === 2) return `${elementText(elem.range[0])}-${elementText(elem.range[1])}`;
    if (Array.isArray(elem.concat)) return elem.concat.map(elementText).join(' . ');
  }
  return JSON.stringify(elem);
}

/** An element with options (`{"elem": {"val", "timeout", "expires", "comment"}}`), or undefined. */
function timedElement(elem: unknown): ObservedTimedElement | undefined {
  if (!isObject(elem) || !isObject(elem.elem)) return undefined;
  const expires = num(elem.elem.expires);
  const comment = str(elem.elem.comment);
  return { element: elementText(elem.elem.val), ...(expires !== undefined ? { expiresSeconds: expires } : {}), ...(comment !== undefined ? { comment } : {}) };
}

function parseSet(s: Json): ObservedSet {
  const timed = Array.isArray(s.elem) ? s.elem.map(timedElement).filter((e): e is ObservedTimedElement => e !== undefined) : [];
  const flags = Array.isArray(s.flags) ? s.flags.filter((f): f is string => typeof f === 'string') : [];
  const type = Array.isArray(s.type) ? s.type.map(String).join(' . ') : (str(s.type) ?? '');
  return {
    name: str(s.name) ?? '',
    type,
    flags,
    interval: flags.includes('interval'),
    elements: Array.isArray(s.elem) ? s.elem.map(elementText) : [],
    ...(num(s.size) !== undefined ? { size: num(s.size) } : {}),
    ...(timed.length > 0 ? { timed } : {}),
  };
}

function firstCounter(expr: unknown): NftCounter | undefined {
  if (!Array.isArray(expr)) return undefined;
  for (const e of expr) {
    if (isObject(e) && isObject(e.counter)) {
      return { packets: num(e.counter.packets) ?? 0, bytes: num(e.counter.bytes) ?? 0 };
    }
  }
  return undefined;
}

function parseRule(r: Json): ObservedRule {
  const comment = str(r.comment);
  const counter = firstCounter(r.expr);
  return { handle: num(r.handle) ?? 0, ...(comment !== undefined ? { comment } : {}), ...(counter ? { counter } : {}) };
}

/**
 * Sets (with elements) and chains (with rules and counters) of one table, from the output of
 * `list table FAMILY NAME` with NFT_CTX_OUTPUT_JSON. Objects of other tables are ignored.
 */
export function parseTableJson(text: string, family: string, name: string): { sets: ObservedSet[]; chains: ObservedChain[] } {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new EgressError('EGW_ERR_NFT', `libnftables printed JSON that does not parse: ${String(err)}`, { cause: err });
  }
  const items = isObject(doc) && Array.isArray(doc.nftables) ? doc.nftables : undefined;
  if (!items) throw new EgressError('EGW_ERR_NFT', 'libnftables JSON has no "nftables" array');
  const ours = (o: Json) => o.family === family && o.table === name;
  const sets: ObservedSet[] = [];
  const chains = new Map<string, { chain: Omit<ObservedChain, 'rules'>; rules: ObservedRule[] }>();
  for (const item of items) {
    if (!isObject(item)) continue;
    if (isObject(item.set) && ours(item.set)) sets.push(parseSet(item.set));
    else if (isObject(item.chain) && ours(item.chain)) {
      const c = item.chain;
      const chain = {
        name: str(c.name) ?? '',
        ...(str(c.type) !== undefined ? { type: str(c.type) } : {}),
        ...(str(c.hook) !== undefined ? { hook: str(c.hook) } : {}),
        ...(num(c.prio) !== undefined ? { priority: num(c.prio) } : {}),
        ...(str(c.policy) !== undefined ? { policy: str(c.policy) } : {}),
      };
      chains.set(chain.name, { chain, rules: [] });
    } else if (isObject(item.rule) && ours(item.rule)) {
      // Chains are printed before their rules.
      chains.get(str(item.rule.chain) ?? '')?.rules.push(parseRule(item.rule));
    }
  }
  return { sets, chains: [...chains.values()].map(({ chain, rules }) => ({ ...chain, rules })) };
}

/**
 * The comment of the first rule of `chain`, from nft-syntax output of `list table` (a rule line
 * ends with `comment "…"`); undefined when the chain or the comment is missing.
 */
export function chainRuleCommentFromText(text: string, chain: string): string | undefined {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === `chain ${chain} {`);
  if (at < 0) return undefined;
  return /\scomment "((?:[^"\\]|\\.)*)"\s*$/.exec(lines[at + 1] ?? '')?.[1];
}

/** True when nft's error text is ENOENT: the table, set, chain or element named does not exist. */
export function isNotFound(error: string): boolean {
  return /No such file or directory/.test(error);
}
