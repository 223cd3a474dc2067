/**
 * ECDSA P-256 with SHA-256 (CRYPTREC-listed; Ed25519 is not) for audit checkpoints, evidence and
 * certificates. Signatures use the fixed 64-byte IEEE P1363 encoding, base64 in JSON.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { sha256Hex } from './primitives.js';

export interface SigningKey {
  /** Short id: SHA-256 of the SPKI public key, first 16 hex chars. */
  readonly keyId: string;
  readonly publicKeyPem: string;
  sign(data: Buffer | string): string;
}

export function generateSigningKeyPem(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function keyIdOf(publicKeyPem: string): string {
  const der = createPublicKey(publicKeyPem).export({ type: 'spki', format: 'der' });
  return sha256Hex(der).slice(0, 16);
}

export function loadSigningKey(privateKeyPem: string): SigningKey {
  const key = createPrivateKey(privateKeyPem);
  assertP256(key);
  const publicKeyPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }).toString();
  return {
    keyId: keyIdOf(publicKeyPem),
    publicKeyPem,
    sign: (data) =>
      sign('sha256', typeof data === 'string' ? Buffer.from(data) : data, { key, dsaEncoding: 'ieee-p1363' }).toString('base64'),
  };
}

/** Verifies a base64 P1363 signature; false (never throws) for malformed input. */
export function verifySignature(publicKeyPem: string, data: Buffer | string, signatureB64: string): boolean {
  try {
    const key = createPublicKey(publicKeyPem);
    assertP256(key);
    return verify(
      'sha256',
      typeof data === 'string' ? Buffer.from(data) : data,
      { key, dsaEncoding: 'ieee-p1363' },
      Buffer.from(signatureB64, 'base64'),
    );
  } catch {
    return false;
  }
}

function assertP256(key: KeyObject): void {
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('only ECDSA P-256 keys are accepted');
  }
}
