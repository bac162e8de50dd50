/**
 * What the lab's external DNS server answers when a lab starts: the names of the seeds' examples and
 * names of our own under sluice.test (a reserved TLD), all on the echo service's addresses.
 */
import { echoAddresses, type HostAddrs } from '../addressing.js';
import type { Zone, ZoneRecord } from './zone.js';

/** Short, so tests meet expiry: a firewall that learns addresses from answers must follow them. */
export const DEFAULT_TTL = 5;
/** Names of the seeds' scenario, each on its own echo address (index into echoAddresses()). */
export const SEED_NAMES: Readonly<Record<string, number>> = { 'github.com': 0, 'httpbin.org': 1, 'google.com': 2 };
export const OWN_DOMAIN = 'sluice.test';

export function defaultZone(ipv6: boolean): Zone {
  const echo = echoAddresses();
  const addrs = (hosts: readonly HostAddrs[]) => hosts.flatMap((h) => (ipv6 ? [h.v4, h.v6] : [h.v4]));
  const rec = (hosts: readonly HostAddrs[], extra: Partial<ZoneRecord> = {}): ZoneRecord => ({ addresses: addrs(hosts), ttl: DEFAULT_TTL, rotate: false, ...extra });
  const records: Record<string, ZoneRecord> = {};
  for (const [name, i] of Object.entries(SEED_NAMES)) {
    records[name] = rec([echo[i]!]);
    records[`www.${name}`] = { addresses: [], ttl: DEFAULT_TTL, rotate: false, cname: name };
  }
  echo.forEach((h, i) => (records[`e${i + 1}.${OWN_DOMAIN}`] = rec([h])));
  records[`echo.${OWN_DOMAIN}`] = rec(echo);
  // Round-robin over five addresses with a 1 s TTL: consecutive lookups disagree, as with a CDN.
  records[`rr.${OWN_DOMAIN}`] = rec(echo.slice(3), { rotate: true, ttl: 1 });
  // A CDN: one of those five addresses per answer, the next one each time, TTL 1 s.
  records[`cdn.${OWN_DOMAIN}`] = rec(echo.slice(3), { rotate: true, ttl: 1, perAnswer: 1 });
  records[`*.apps.${OWN_DOMAIN}`] = rec([echo[echo.length - 1]!]);
  return { records };
}
