/**
 * The echo service's TLS: a lab CA made when the lab starts (its certificate is `info.echo.caFile`,
 * for clients to verify with), and a server certificate per name the clients ask for (SNI), signed by
 * that CA when first asked, so https://<any name the lab's DNS serves>/ verifies. A client without SNI
 * (an address in the URL) gets the CA certificate itself, which names the external host's addresses:
 * trusted as it is, so one openssl run at start-up is all a lab pays. openssl does the X.509 work
 * (EC P-256: instant keys); files live in the lab's state dir.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
const DAYS = '30';

export const caFiles = (dir: string) => ({ cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') });

const CA_SUBJECT = '/CN=sluice lab CA';

/** Makes the CA unless the directory already holds one (made ahead by the lab, or a restarted echo's). */
export async function ensureCa(dir: string, ips: readonly string[]): Promise<void> {
  const ca = caFiles(dir);
  if (existsSync(ca.cert) && existsSync(ca.key)) return;
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await run('openssl', [
    'req',
    '-x509',
    ...EC_KEY,
    '-keyout',
    ca.key,
    '-out',
    ca.cert,
    '-days',
    DAYS,
    '-subj',
    CA_SUBJECT,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    // digitalSignature: it also serves TLS itself, to clients without SNI.
    '-addext',
    'keyUsage=critical,digitalSignature,keyCertSign,cRLSign',
    '-addext',
    `subjectAltName=${['DNS:localhost', ...ips.map((ip) => `IP:${ip}`)].join(',')}`,
  ]);
}

export async function caKeyPair(dir: string): Promise<KeyPair> {
  const ca = caFiles(dir);
  const [key, cert] = await Promise.all([readFile(ca.key, 'utf8'), readFile(ca.cert, 'utf8')]);
  return { key, cert };
}

export interface KeyPair {
  key: string;
  cert: string;
}

/** A server certificate for this DNS name, signed by the CA. The name must be checked by the caller. */
export async function serverCertificate(dir: string, dnsName: string): Promise<KeyPair> {
  const san = `DNS:${dnsName}`;
  const base = join(dir, `server-${createHash('sha256').update(san).digest('hex').slice(0, 16)}`);
  if (!existsSync(`${base}.crt`)) {
    const ca = caFiles(dir);
    await run('openssl', [
      'req',
      '-x509',
      ...EC_KEY,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.crt`,
      '-days',
      DAYS,
      '-subj',
      `/CN=${dnsName}`,
      '-addext',
      `subjectAltName=${san}`,
      '-addext',
      'basicConstraints=critical,CA:FALSE',
      '-addext',
      'extendedKeyUsage=serverAuth',
      '-CA',
      ca.cert,
      '-CAkey',
      ca.key,
    ]);
  }
  const [key, cert] = await Promise.all([readFile(`${base}.key`, 'utf8'), readFile(`${base}.crt`, 'utf8')]);
  return { key, cert };
}
