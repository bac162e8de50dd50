/**
 * The external DNS server's data and how it answers, pure: names map to addresses (or to another name,
 * a CNAME), each with its TTL, optionally rotated on every answer (round-robin, as CDNs and BIND's
 * cyclic order do). `*.example.com` matches any name below example.com that has no record of its own.
 */
import { isIP } from 'node:net';

export interface ZoneRecord {
  /** IPv4 and IPv6 addresses: A answers take the IPv4 ones, AAAA answers the IPv6 ones. */
  addresses: string[];
  ttl: number;
  /** Each answer starts one address further along the list. */
  rotate: boolean;
  /** Each answer carries only this many addresses (from where the rotation starts), as a CDN hands out a few of many. */
  perAnswer?: number;
  /** An alias: the name's only record is this CNAME (then addresses is empty). */
  cname?: string;
}

/** Keys are lower-case names without the final dot. */
export interface Zone {
  records: Record<string, ZoneRecord>;
}

export type QueryType = 'A' | 'AAAA' | 'CNAME';

export interface ZoneAnswer {
  name: string;
  type: QueryType;
  ttl: number;
  data: string;
}

export interface Resolution {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: ZoneAnswer[];
}

export const MAX_TTL = 86_400;
const MAX_CNAME_CHAIN = 8;
const LABEL = /^[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?$/;

/** Lower-case, without the final dot; throws on anything that is not a host name (`*.` may lead with `wildcard`). */
export function normalizeName(raw: string, opts: { wildcard?: boolean } = {}): string {
  const name = raw.trim().toLowerCase().replace(/\.$/, '');
  const labels = name.split('.');
  const body = opts.wildcard && labels[0] === '*' && labels.length > 1 ? labels.slice(1) : labels;
  if (name.length === 0 || name.length > 253 || !body.every((l) => LABEL.test(l))) {
    throw new Error(`${JSON.stringify(raw)} is not a DNS name${opts.wildcard ? ' (a leading "*." is allowed)' : ''}`);
  }
  return name;
}

/** A checked record; throws with a message fit for a CLI user. */
export function zoneRecord(input: { addresses?: readonly string[]; ttl?: number; rotate?: boolean; cname?: string; perAnswer?: number }, defaultTtl: number): ZoneRecord {
  const ttl = input.ttl ?? defaultTtl;
  if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL) throw new Error(`TTL must be a whole number of seconds 0..${MAX_TTL}, got ${ttl}`);
  const addresses = [...new Set(input.addresses ?? [])];
  for (const a of addresses) if (isIP(a) === 0) throw new Error(`${JSON.stringify(a)} is not an IPv4 or IPv6 address`);
  if (input.cname !== undefined) {
    if (addresses.length > 0) throw new Error('a name is either an alias (CNAME) or has addresses, not both');
    return { addresses: [], ttl, rotate: false, cname: normalizeName(input.cname) };
  }
  if (addresses.length === 0) throw new Error('give at least one address');
  const { perAnswer } = input;
  if (perAnswer !== undefined && (!Number.isInteger(perAnswer) || perAnswer < 1)) throw new Error(`addresses per answer must be a whole number from 1, got ${perAnswer}`);
  return { addresses, ttl, rotate: input.rotate ?? false, ...(perAnswer === undefined ? {} : { perAnswer }) };
}

/** Answers queries from a zone; keeps the rotation counters (one per name and family). */
export class ZoneAnswerer {
  private readonly turns = new Map<string, number>();

  constructor(private readonly zone: Zone) {}

  resolve(qname: string, qtype: QueryType): Resolution {
    const answers: ZoneAnswer[] = [];
    let name = qname.toLowerCase().replace(/\.$/, '');
    for (let depth = 0; depth <= MAX_CNAME_CHAIN; depth++) {
      const found = this.find(name);
      if (!found) return { rcode: answers.length > 0 || this.hasNamesBelow(name) ? 'NOERROR' : 'NXDOMAIN', answers };
      const { key, record } = found;
      if (record.cname !== undefined) {
        answers.push({ name, type: 'CNAME', ttl: record.ttl, data: record.cname });
        if (qtype === 'CNAME') break;
        name = record.cname;
        continue;
      }
      if (qtype !== 'CNAME') {
        const family = qtype === 'A' ? 4 : 6;
        const addrs = record.addresses.filter((a) => isIP(a) === family);
        const chosen = this.rotated(`${key}/${qtype}`, addrs, record.rotate).slice(0, record.perAnswer ?? addrs.length);
        for (const data of chosen) answers.push({ name, type: qtype, ttl: record.ttl, data });
      }
      break;
    }
    return { rcode: 'NOERROR', answers };
  }

  private find(name: string): { key: string; record: ZoneRecord } | undefined {
    const exact = this.zone.records[name];
    if (exact) return { key: name, record: exact };
    const labels = name.split('.');
    for (let i = 1; i < labels.length; i++) {
      const key = `*.${labels.slice(i).join('.')}`;
      const record = this.zone.records[key];
      if (record) return { key, record };
    }
    return undefined;
  }

  /** An empty non-terminal (example.com when only www.example.com has records) exists: NODATA, not NXDOMAIN. */
  private hasNamesBelow(name: string): boolean {
    return Object.keys(this.zone.records).some((k) => k.endsWith(`.${name}`) && !k.startsWith('*.'));
  }

  private rotated(key: string, addrs: readonly string[], rotate: boolean): string[] {
    if (!rotate || addrs.length < 2) return [...addrs];
    const turn = this.turns.get(key) ?? 0;
    this.turns.set(key, turn + 1);
    const k = turn % addrs.length;
    return [...addrs.slice(k), ...addrs.slice(0, k)];
  }
}

/** Reads a zone file's JSON; every record is checked, so a bad edit cannot take the server down. */
export function parseZone(text: string): Zone {
  const raw = JSON.parse(text) as { records?: Record<string, Partial<ZoneRecord>> };
  const records: Record<string, ZoneRecord> = {};
  for (const [name, r] of Object.entries(raw.records ?? {})) {
    records[normalizeName(name, { wildcard: true })] = zoneRecord(
      {
        ...(r.addresses ? { addresses: r.addresses } : {}),
        ...(r.ttl !== undefined ? { ttl: r.ttl } : {}),
        rotate: r.rotate ?? false,
        ...(r.cname ? { cname: r.cname } : {}),
        ...(r.perAnswer !== undefined ? { perAnswer: r.perAnswer } : {}),
      },
      0,
    );
  }
  return { records };
}
