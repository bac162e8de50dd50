/**
 * Go's net/netip ParseAddr and ParsePrefix (Go 1.22+), which the Kubernetes CEL IP and CIDR
 * libraries use: the same inputs are accepted and rejected, so CRD rules behave as on a real
 * API server. Returns the address bytes (4 or 16) and the zone, or an error message.
 */
export interface NetipAddr {
  readonly bytes: number[];
  readonly zone: string;
}

type Result<T> = { ok: T } | { error: string };

function parseIPv4Fields(s: string, out: number[]): string | undefined {
  let val = 0;
  let pos = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) return 'IPv4 field has octet with leading zero';
      val = val * 10 + (c - 48);
      digits++;
      if (val > 255) return 'IPv4 field has value >255';
    } else if (s[i] === '.') {
      if (i === 0 || i === s.length - 1 || s[i - 1] === '.') return 'IPv4 field must have at least one digit';
      if (pos === 3) return 'IPv4 address too long';
      out[pos++] = val;
      val = 0;
      digits = 0;
    } else {
      return 'unexpected character';
    }
  }
  if (pos < 3) return 'IPv4 address too short';
  out[3] = val;
  return undefined;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

function parseIPv6(input: string): Result<NetipAddr> {
  let s = input;
  let zone = '';
  const percent = s.indexOf('%');
  if (percent !== -1) {
    zone = s.slice(percent + 1);
    s = s.slice(0, percent);
    if (zone === '') return { error: 'zone must be a non-empty string' };
  }
  const ip = new Array<number>(16).fill(0);
  let ellipsis = -1;
  if (s.length >= 2 && s[0] === ':' && s[1] === ':') {
    ellipsis = 0;
    s = s.slice(2);
    if (s.length === 0) return { ok: { bytes: ip, zone } };
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; off < s.length; off++) {
      const h = hexValue(s.charCodeAt(off));
      if (h < 0) break;
      acc = acc * 16 + h;
      if (off > 3) return { error: 'each group must have 4 or less digits' };
      if (acc > 0xffff) return { error: 'IPv6 field has value >=2^16' };
    }
    if (off === 0) return { error: 'each colon-separated field must have at least one digit' };
    if (off < s.length && s[off] === '.') {
      if (ellipsis < 0 && i !== 12) return { error: 'embedded IPv4 address must replace the final 2 fields of the address' };
      if (i + 4 > 16) return { error: 'too many hex fields to fit an embedded IPv4 at the end of the address' };
      const fields: number[] = [];
      const err = parseIPv4Fields(s, fields);
      if (err) return { error: err };
      ip.splice(i, 4, ...fields);
      s = '';
      i += 4;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    s = s.slice(off);
    if (s.length === 0) break;
    if (s[0] !== ':') return { error: 'unexpected character, want colon' };
    if (s.length === 1) return { error: 'colon must be followed by more characters' };
    s = s.slice(1);
    if (s[0] === ':') {
      if (ellipsis >= 0) return { error: 'multiple :: in address' };
      ellipsis = i;
      s = s.slice(1);
      if (s.length === 0) break;
    }
  }
  if (s.length !== 0) return { error: 'trailing garbage after address' };
  if (i < 16) {
    if (ellipsis < 0) return { error: 'address string too short' };
    const n = 16 - i;
    for (let j = i - 1; j >= ellipsis; j--) ip[j + n] = ip[j]!;
    for (let j = ellipsis; j < ellipsis + n; j++) ip[j] = 0;
  } else if (ellipsis >= 0) {
    return { error: 'the :: must expand to at least one field of zeros' };
  }
  return { ok: { bytes: ip, zone } };
}

export function parseAddr(s: string): Result<NetipAddr> {
  for (const c of s) {
    if (c === '.') {
      const fields: number[] = [];
      const err = parseIPv4Fields(s, fields);
      return err ? { error: err } : { ok: { bytes: fields, zone: '' } };
    }
    if (c === ':') return parseIPv6(s);
    if (c === '%') return { error: 'missing IPv6 address' };
  }
  return { error: 'unable to parse IP' };
}

export function parsePrefix(s: string): Result<{ addr: NetipAddr; bits: number }> {
  const slash = s.lastIndexOf('/');
  if (slash < 0) return { error: "no '/'" };
  const addr = parseAddr(s.slice(0, slash));
  if ('error' in addr) return addr;
  if (addr.ok.bytes.length === 16 && addr.ok.zone !== '') return { error: 'IPv6 zones cannot be present in a prefix' };
  const bitsText = s.slice(slash + 1);
  if (!/^(0|[1-9][0-9]*)$/.test(bitsText)) return { error: `bad bits after slash: ${JSON.stringify(bitsText)}` };
  const bits = Number(bitsText);
  if (bits > addr.ok.bytes.length * 8) return { error: 'prefix length out of range' };
  return { ok: { addr: addr.ok, bits } };
}

/** An IPv6 address of the form ::ffff:a.b.c.d (however it was written). */
export function is4In6(bytes: readonly number[]): boolean {
  return bytes.length === 16 && bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
}
