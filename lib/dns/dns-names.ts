/**
 * DNS names as firewall rules name them: compared case-insensitively, a trailing dot ignored;
 * `*.example.com` matches every name below example.com (at any depth), not example.com itself.
 */

/** The canonical form of a name: lower case, without the trailing dot. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/** Whether a rule's name (already canonical, as the parser stores it) matches a queried name. */
export function dnsNameMatches(pattern: string, name: string): boolean {
  const n = canonicalName(name);
  if (!pattern.startsWith('*.')) return n === pattern;
  const suffix = pattern.slice(1); // ".example.com"
  return n.length > suffix.length && n.endsWith(suffix);
}
