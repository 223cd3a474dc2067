/**
 * TLS policy for every listener (TLS-01, IPA/CRYPTREC TLS暗号設定ガイドライン 推奨セキュリティ型 with
 * CRYPTREC-listed ciphers only): TLS 1.3 and 1.2, ECDHE key exchange, AES-GCM AEAD suites. No
 * CBC, no RSA key exchange, no ChaCha20 (not on the CRYPTREC list).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { generateSelfSignedCertificate } from '../crypto/certificates.js';
import type { Zone } from '../core/types.js';

export const TLS_MIN_VERSION = 'TLSv1.2' as const;
export const TLS_MAX_VERSION = 'TLSv1.3' as const;
export const TLS13_SUITES = ['TLS_AES_256_GCM_SHA384', 'TLS_AES_128_GCM_SHA256'] as const;
export const TLS12_SUITES = [
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES128-GCM-SHA256',
] as const;
export const TLS_GROUPS = 'X25519:P-256:P-384';

export function tlsPolicy(): SecureContextOptions & { honorCipherOrder: boolean } {
  return {
    minVersion: TLS_MIN_VERSION,
    maxVersion: TLS_MAX_VERSION,
    ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
    ecdhCurve: TLS_GROUPS,
    honorCipherOrder: true,
  };
}

export interface ZoneCertificate {
  cert: string;
  key: string;
  selfSigned: boolean;
  certFile: string;
}

/**
 * Loads the zone's configured certificate, or generates (first start) and reuses a self-signed
 * ECDSA P-256 certificate for localhost/127.0.0.1 in `<dataDir>/tls`.
 */
export async function loadZoneCertificate(
  zone: Zone,
  configured: { certFile?: string | undefined; keyFile?: string | undefined },
  certDir: string,
): Promise<ZoneCertificate & { generated: boolean }> {
  if (configured.certFile && configured.keyFile) {
    return {
      cert: readFileSync(configured.certFile, 'utf8'),
      key: readFileSync(configured.keyFile, 'utf8'),
      selfSigned: false,
      certFile: configured.certFile,
      generated: false,
    };
  }
  const certFile = join(certDir, `${zone}.crt`);
  const keyFile = join(certDir, `${zone}.key`);
  if (existsSync(certFile) && existsSync(keyFile)) {
    return {
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
      selfSigned: true,
      certFile,
      generated: false,
    };
  }
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const generated = await generateSelfSignedCertificate({
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
    days: 397,
  });
  writeFileSync(keyFile, generated.keyPem, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, generated.certPem, { mode: 0o644 });
  return { cert: generated.certPem, key: generated.keyPem, selfSigned: true, certFile, generated: true };
}
