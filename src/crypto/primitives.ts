/**
 * The crypto module (ENC-04): the only code that touches `node:crypto`. Only CRYPTREC-listed
 * primitives are offered: AES-256-GCM, SHA-256, HMAC-SHA256, HKDF-SHA256, ECDSA P-256/SHA-256.
 * A test fails if any other module imports `node:crypto`.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes as nodeRandomBytes,
  randomInt,
  randomUUID,
  timingSafeEqual,
} from 'node:crypto';

/** AES-256-GCM parameters: 256-bit key, 96-bit nonce, 128-bit tag (NIST SP 800-38D). */
export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

export function randomBytes(n: number): Buffer {
  return nodeRandomBytes(n);
}

/** A random UUID (v4, 122 random bits) for object ids; never derived from names or content. */
export function randomId(): string {
  return randomUUID();
}

/** A URL-safe random token with `bytes` bytes of entropy (default 256 bits). */
export function randomToken(bytes = 32): string {
  return nodeRandomBytes(bytes).toString('base64url');
}

/** A uniformly random string of `n` decimal digits (one-time codes). */
export function randomDigits(n: number): string {
  let out = '';
  for (let i = 0; i < n; i++) out += String(randomInt(10));
  return out;
}

export function sha256(data: Buffer | Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

export function sha256Hex(data: Buffer | Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Incremental SHA-256 for streams. */
export interface Sha256Stream {
  update(chunk: Buffer | Uint8Array): void;
  digestHex(): string;
  digest(): Buffer;
}

export function createSha256(): Sha256Stream {
  const h = createHash('sha256');
  return {
    update: (chunk) => void h.update(chunk),
    digestHex: () => h.digest('hex'),
    digest: () => h.digest(),
  };
}

export function hmacSha256(key: Buffer, data: Buffer | string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** HKDF-SHA256 (RFC 5869). */
export function hkdfSha256(ikm: Buffer, salt: Buffer, info: Buffer | string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, salt, typeof info === 'string' ? Buffer.from(info) : info, length));
}

/** Constant-time comparison; false for different lengths without leaking where they differ. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One-shot AES-256-GCM. Returns ciphertext ‖ tag. */
export function aesGcmEncrypt(key: Buffer, nonce: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  assertAeadParams(key, nonce);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  c.setAAD(aad);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

/** One-shot AES-256-GCM decryption of ciphertext ‖ tag; throws `DecryptError` if authentication fails. */
export function aesGcmDecrypt(key: Buffer, nonce: Buffer, sealed: Buffer, aad: Buffer): Buffer {
  assertAeadParams(key, nonce);
  if (sealed.length < AEAD_TAG_BYTES) throw new DecryptError('ciphertext shorter than the tag');
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: AEAD_TAG_BYTES });
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
  try {
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - AEAD_TAG_BYTES)), d.final()]);
  } catch {
    throw new DecryptError('authentication failed');
  }
}

function assertAeadParams(key: Buffer, nonce: Buffer): void {
  if (key.length !== AEAD_KEY_BYTES) throw new Error(`AES-256-GCM needs a ${AEAD_KEY_BYTES}-byte key`);
  if (nonce.length !== AEAD_NONCE_BYTES) throw new Error(`AES-256-GCM needs a ${AEAD_NONCE_BYTES}-byte nonce`);
}

/** Authentication of sealed data failed: tampered, truncated, wrong key or wrong associated data. */
export class DecryptError extends Error {
  constructor(reason: string) {
    super(`decryption failed: ${reason}`);
    this.name = 'DecryptError';
  }
}

const WRAP_VERSION = 1;

/**
 * Seals a small secret (a key) under `kek`: version byte ‖ nonce ‖ ciphertext ‖ tag, with `aad`
 * binding it to its owner so a wrapped key cannot be moved to another tenant or blob.
 */
export function wrapKey(kek: Buffer, plaintext: Buffer, aad: string): Buffer {
  const nonce = nodeRandomBytes(AEAD_NONCE_BYTES);
  const header = Buffer.from([WRAP_VERSION]);
  return Buffer.concat([header, nonce, aesGcmEncrypt(kek, nonce, plaintext, Buffer.concat([header, Buffer.from(aad)]))]);
}

export function unwrapKey(kek: Buffer, wrapped: Buffer, aad: string): Buffer {
  if (wrapped.length < 1 + AEAD_NONCE_BYTES + AEAD_TAG_BYTES || wrapped[0] !== WRAP_VERSION) {
    throw new DecryptError('unknown wrapped-key format');
  }
  const header = wrapped.subarray(0, 1);
  const nonce = wrapped.subarray(1, 1 + AEAD_NONCE_BYTES);
  return aesGcmDecrypt(kek, nonce, wrapped.subarray(1 + AEAD_NONCE_BYTES), Buffer.concat([header, Buffer.from(aad)]));
}
