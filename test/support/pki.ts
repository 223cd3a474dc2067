/** A tenant CA and client certificates for device-restriction tests (real X.509, ECDSA P-256). */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export interface Issued {
  certPem: string;
  keyPem: string;
}
export interface TestCa extends Issued {
  issue(cn: string, opts?: { notBefore?: Date; notAfter?: Date; purposes?: string[] }): Promise<Issued>;
  /** A certificate revocation list of this CA revoking these serial numbers (hex), as PEM. */
  crl(serials: string[], opts?: { nextUpdate?: Date | null; issuer?: string }): Promise<string>;
}

/** The serial number of a PEM certificate, as hex. */
export function serialOf(certPem: string): string {
  return new x509.X509Certificate(certPem).serialNumber;
}

async function keyPem(k: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', k), 'PRIVATE KEY');
}

export async function createCa(name: string): Promise<TestCa> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 365 * 86_400_000),
    signingAlgorithm: alg,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  let serial = 2;
  return {
    certPem: ca.toString('pem'),
    keyPem: await keyPem(keys.privateKey),
    async issue(cn, opts = {}) {
      const k = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: (serial++).toString(16).padStart(2, '0'),
        subject: `CN=${cn}`,
        issuer: ca.subject,
        notBefore: opts.notBefore ?? new Date(Date.now() - 3_600_000),
        notAfter: opts.notAfter ?? new Date(Date.now() + 30 * 86_400_000),
        signingAlgorithm: alg,
        publicKey: k.publicKey,
        signingKey: keys.privateKey,
        extensions: [
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension(opts.purposes ?? [x509.ExtendedKeyUsage.clientAuth]),
        ],
      });
      return { certPem: cert.toString('pem'), keyPem: await keyPem(k.privateKey) };
    },
    async crl(serials, opts = {}) {
      const nextUpdate = opts.nextUpdate === undefined ? new Date(Date.now() + 7 * 86_400_000) : opts.nextUpdate;
      const list = await x509.X509CrlGenerator.create({
        issuer: opts.issuer ?? ca.subject,
        thisUpdate: new Date(Date.now() - 3_600_000),
        ...(nextUpdate ? { nextUpdate } : {}),
        signingAlgorithm: alg,
        signingKey: keys.privateKey,
        entries: serials.map((serialNumber) => ({ serialNumber, revocationDate: new Date(Date.now() - 60_000) })),
      });
      return list.toString('pem');
    },
  };
}
