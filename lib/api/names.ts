/**
 * Names Kubernetes and the kernel accept, as regular-expression text shared by the parsers and the
 * CRD schemas (lib/api/schema), so both reject the same values.
 */

export const DNS1123_LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
export const DNS1123_SUBDOMAIN = `${DNS1123_LABEL}(\\.${DNS1123_LABEL})*`;
/** A label value: empty, or up to 63 alphanumerics, '-', '_' and '.', alphanumeric at both ends. */
export const LABEL_VALUE = '(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?';
/** A label key: an optional DNS subdomain prefix and '/', then a name of at most 63 characters. */
export const QUALIFIED_NAME = `(${DNS1123_SUBDOMAIN}/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?`;
export const QUALIFIED_NAME_PREFIX_MAX = 253;
export const QUALIFIED_NAME_MAX = QUALIFIED_NAME_PREFIX_MAX + 1 + 63;
/** At most this many matchLabels and this many matchExpressions in one selector (keeps CRD rule costs bounded). */
export const SELECTOR_MAX_TERMS = 64;
/**
 * A network interface name the kernel and iproute2 both accept (1-15 bytes, no '/', ':', quotes
 * or spaces), narrowed to the characters real NICs use, so it is safe as a word of an `ip` batch
 * and inside an nft string.
 */
export const INTERFACE_NAME = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}';
/** INTERFACE_NAME in words, for messages. */
export const INTERFACE_NAME_RULE = '1-15 letters, digits, "_", "." or "-", not starting with "." or "-"';

const anchored = (text: string) => new RegExp(`^${text}$`);
const LABEL_RE = anchored(DNS1123_LABEL);
const SUBDOMAIN_RE = anchored(DNS1123_SUBDOMAIN);
const LABEL_VALUE_RE = anchored(LABEL_VALUE);
const QUALIFIED_NAME_RE = anchored(QUALIFIED_NAME);
const INTERFACE_NAME_RE = anchored(INTERFACE_NAME);

/** Namespaces (and other DNS-1123 labels): at most 63 characters. */
export function isDnsLabel(text: string): boolean {
  return text.length <= 63 && LABEL_RE.test(text);
}

/** Object names: at most 253 characters. */
export function isDnsSubdomain(text: string): boolean {
  return text.length <= 253 && SUBDOMAIN_RE.test(text);
}

export function isLabelKey(text: string): boolean {
  const slash = text.indexOf('/');
  return QUALIFIED_NAME_RE.test(text) && slash <= QUALIFIED_NAME_PREFIX_MAX;
}

export function isLabelValue(text: string): boolean {
  return LABEL_VALUE_RE.test(text);
}

export function isInterfaceName(text: string): boolean {
  return INTERFACE_NAME_RE.test(text);
}

/**
 * A DNS name of a firewall rule: labels of letters, digits and '-' of at most 63 characters (the
 * CRD's pattern says so too), optionally `*.` first (every name below the rest), an optional
 * trailing dot. Case is not significant (callers lower-case).
 */
export const FIREWALL_DNS_NAME = '(\\*\\.)?([A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?\\.)*[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?\\.?';
export const FIREWALL_DNS_NAME_MAX = 253;
const FIREWALL_DNS_NAME_RE = anchored(FIREWALL_DNS_NAME);

/** Whether `text` is a firewall rule's DNS name (each label at most 63 characters). */
export function isFirewallDnsName(text: string): boolean {
  if (text.length > FIREWALL_DNS_NAME_MAX || !FIREWALL_DNS_NAME_RE.test(text)) return false;
  return text
    .replace(/\.$/, '')
    .split('.')
    .every((label) => label.length <= 63);
}
