/**
 * Self-signed bootstrap certificates (TLS-01): ECDSA P-256, SHA-256, for localhost and 127.0.0.1,
 * generated with @peculiar/x509 on Node's WebCrypto. Production configures real certificates.
 */
import 'reflect-metadata';
import { X509Certificate, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export interface GeneratedCertificate {
  certPem: string;
  keyPem: string;
  fingerprintSha256: string;
}

/** Generates a self-signed server certificate valid for `days` days for the given DNS names and IPs. */
export async function generateSelfSignedCertificate(opts: {
  commonName: string;
  dnsNames: string[];
  ipAddresses: string[];
  days: number;
}): Promise<GeneratedCertificate> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + opts.days * 86_400_000);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${opts.commonName}, O=Kura self-signed`,
    notBefore,
    notAfter,
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([
        ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...opts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  const thumb = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
  return { certPem: cert.toString('pem'), keyPem, fingerprintSha256: thumb };
}

/** Parses one or more PEM CA certificates; throws on anything else (tenant CA upload, AC-11). */
export function parseCaBundle(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new Error('no PEM certificate found');
  return blocks.map((b) => {
    const c = new X509Certificate(b);
    if (!c.ca) throw new Error(`${c.subject} is not a CA certificate`);
    return c;
  });
}

export interface CrlRead {
  issuer: string;
  thisUpdate: string;
  nextUpdate: string | null;
  /** Revoked serial numbers, canonical (canonicalSerial), without duplicates. */
  serials: string[];
}

export class CrlError extends Error {
  constructor(
    readonly reason: 'invalid' | 'untrusted',
    message: string,
  ) {
    super(message);
    this.name = 'CrlError';
  }
}

/**
 * Reads a certificate revocation list (PEM, or DER as base64) from the tenant's CA (AC-11): it must
 * be signed by one of `cas`, so a list from anywhere else cannot be slipped in; returns the serials
 * it revokes.
 */
export async function readCrl(text: string, cas: X509Certificate[]): Promise<CrlRead> {
  let crl: x509.X509Crl;
  try {
    // A PEM block anywhere in the text (after a byte-order mark, or `openssl crl -text` output), else DER as base64.
    const body = /-----BEGIN (?:X509 )?CRL-----([\s\S]+?)-----END (?:X509 )?CRL-----/.exec(text)?.[1] ?? text;
    const der = Buffer.from(body.replace(/\s+/g, ''), 'base64');
    // The parser's default node budget (10,000) refuses CRLs of more than about a thousand entries.
    crl = new x509.X509Crl(der, { berOptions: { maxNodes: CRL_MAX_NODES } } as ConstructorParameters<typeof x509.X509Crl>[1]);
  } catch (err) {
    throw new CrlError('invalid', `not a certificate revocation list: ${(err as Error).message}`);
  }
  // RFC 5280 requires nextUpdate; without it the library does not read the revoked entries at all,
  // so such a list would silently revoke nothing.
  if (!crl.nextUpdate) throw new CrlError('invalid', 'the list has no nextUpdate');
  // A delta CRL lists only changes since a base CRL: taken alone it would look like a short list.
  if (crl.extensions.some((e) => e.type === DELTA_CRL_INDICATOR))
    throw new CrlError('invalid', 'a delta CRL; import the full CRL');
  let signedBy: X509Certificate | undefined;
  for (const ca of cas) {
    const cert = new x509.X509Certificate(ca.raw);
    // The list must name the CA as its issuer, and the CA must be allowed to sign lists.
    if (cert.subject !== crl.issuer) continue;
    const usage = cert.getExtension(x509.KeyUsagesExtension);
    if (usage && !(usage.usages & x509.KeyUsageFlags.cRLSign)) continue;
    // The CA's key with the CRL's own signature algorithm (not the one the CA's certificate was signed with).
    if (await crl.verify({ publicKey: cert.publicKey }).catch(() => false)) {
      signedBy = ca;
      break;
    }
  }
  if (!signedBy) throw new CrlError('untrusted', `the list from ${crl.issuer} is not signed by the tenant's CA`);
  return {
    issuer: crl.issuer,
    thisUpdate: crl.thisUpdate.toISOString(),
    nextUpdate: crl.nextUpdate.toISOString(),
    serials: [...new Set(crl.entries.map((e) => canonicalSerial(e.serialNumber)))],
  };
}

const CRL_MAX_NODES = 100_000;
const DELTA_CRL_INDICATOR = '2.5.29.27';

export interface ClientCertCheck {
  ok: boolean;
  reason?: 'missing' | 'untrusted' | 'expired' | 'not_yet_valid' | 'not_for_clients' | 'revoked';
  subject?: string;
  fingerprint256?: string;
  serialNumber?: string;
}

/**
 * A serial number as an administrator copies it (colons or spaces, lower case, leading zeros) in
 * the one form kept and compared: upper-case hex without leading zeros. Anything not hex stays as it
 * is, for the settings schema to refuse. (No zod transform: the settings are a response schema too.)
 */
export function canonicalSerial(written: string): string {
  const hex = written.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]+$/.test(hex) ? hex.replace(/^0+(?=.)/, '') : written;
}

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_PURPOSE = '2.5.29.37.0';

/**
 * Checks a client certificate (DER from the TLS socket) against a tenant's CA bundle: issued and
 * signed by one of the CAs, valid at `now`, and made for a client (AC-11 device restriction): not
 * a CA, and when it names its purposes (extended key usage), TLS client authentication is one —
 * so a web server's certificate from the same municipal CA is not a device; and not revoked by the
 * tenant (a lost terminal's).
 */
export function checkClientCertificate(
  der: Buffer | null | undefined,
  cas: X509Certificate[],
  now: Date,
  /** Serial numbers the tenant revoked, as `canonicalSerial` writes them. */
  revokedSerials: ReadonlySet<string> = new Set(),
): ClientCertCheck {
  if (!der || der.length === 0) return { ok: false, reason: 'missing' };
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch {
    return { ok: false, reason: 'untrusted' };
  }
  const meta = { subject: cert.subject, fingerprint256: cert.fingerprint256, serialNumber: cert.serialNumber };
  const issuer = cas.find((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey));
  if (!issuer) return { ok: false, reason: 'untrusted', ...meta };
  if (now < new Date(cert.validFrom)) return { ok: false, reason: 'not_yet_valid', ...meta };
  if (now > new Date(cert.validTo)) return { ok: false, reason: 'expired', ...meta };
  const purposes = cert.keyUsage; // Node names the extended key usage OIDs so; undefined when absent
  if (cert.ca || (purposes && !purposes.includes(CLIENT_AUTH) && !purposes.includes(ANY_PURPOSE))) {
    return { ok: false, reason: 'not_for_clients', ...meta };
  }
  if (revokedSerials.has(canonicalSerial(cert.serialNumber))) return { ok: false, reason: 'revoked', ...meta };
  return { ok: true, ...meta };
}
