/** String formats the apiextensions server checks (the common subset). Unknown formats are not checked. */
import ipaddr from 'ipaddr.js';

function isIPv4(value: string): boolean {
  return ipaddr.IPv4.isValidFourPartDecimal(value);
}

function isIPv6(value: string): boolean {
  return value.includes(':') && ipaddr.IPv6.isValid(value);
}

function isCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  if (isIPv4(address)) return Number(prefix) <= 32;
  return isIPv6(address) && Number(prefix) <= 128;
}

const CHECKS: Record<string, (value: string) => boolean> = {
  ipv4: isIPv4,
  ipv6: isIPv6,
  cidr: isCidr,
  mac: (value) => /^([0-9A-Fa-f]{2}[:-]){5}[0-9A-Fa-f]{2}$/.test(value),
  uuid: (value) => /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(value),
  date: (value) => /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value)),
  'date-time': (value) => /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(value),
  datetime: (value) => CHECKS['date-time'](value),
  hostname: (value) => value.length <= 255 && /^[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]{0,61}[A-Za-z0-9])?)*$/.test(value),
  email: (value) => /^[^@\s]+@[^@\s]+$/.test(value),
  byte: (value) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(value),
  duration: (value) => /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h|d|w))+$/.test(value.replace(/\s+/g, '')),
  uri: (value) => URL.canParse(value),
};

/** True or false for known formats; undefined when the format is not checked. */
export function matchesFormat(format: string, value: string): boolean | undefined {
  const check = CHECKS[format];
  return check ? check(value) : undefined;
}
