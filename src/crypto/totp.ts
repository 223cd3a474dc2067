/**
 * TOTP (RFC 6238) for MFA (AC-09): 6 digits, 30-second steps, ±1 step accepted, each step usable
 * once (the caller stores the last accepted step). HMAC comes from this module. The default is
 * HMAC-SHA-256 (CRYPTREC-listed); HMAC-SHA-1, the RFC default that some authenticator apps still
 * assume, is available only as an explicit per-tenant compatibility choice and is named in the
 * tenant's policy export — the single, documented SHA-1 use in the product.
 */
import { createHmac } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { randomBytes } from './primitives.js';

export type TotpAlgorithm = 'SHA256' | 'SHA1';
export const TOTP_PERIOD_S = 30;
export const TOTP_DIGITS = 6;
export const TOTP_WINDOW = 1;
export const TOTP_SECRET_BYTES = 20;

const HMAC_NAMES: Record<TotpAlgorithm, string> = { SHA256: 'sha256', SHA1: 'sha1' };

function hmac(algorithm: string, key: Uint8Array, message: Uint8Array): Uint8Array {
  const name = HMAC_NAMES[algorithm.toUpperCase().replace('-', '') as TotpAlgorithm];
  if (!name) throw new Error(`unsupported TOTP algorithm ${algorithm}`);
  return createHmac(name, key).update(message).digest();
}

export function newTotpSecret(): Buffer {
  return randomBytes(TOTP_SECRET_BYTES);
}

export function totpUri(secret: Buffer, opts: { issuer: string; label: string; algorithm: TotpAlgorithm }): string {
  return new TOTP({
    issuer: opts.issuer,
    label: opts.label,
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm: opts.algorithm,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    hmac,
  }).toString();
}

export function totpSecretBase32(secret: Buffer): string {
  return new Secret({ buffer: toArrayBuffer(secret) }).base32;
}

export function totpCode(secret: Buffer, algorithm: TotpAlgorithm, atMs: number): string {
  return TOTP.generate({
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    timestamp: atMs,
    hmac,
  });
}

/**
 * Returns the accepted time step (counter) for `code` at `atMs`, or null. Codes of a step at or
 * before `lastUsedStep` are refused (replay).
 */
export function verifyTotp(
  secret: Buffer,
  algorithm: TotpAlgorithm,
  code: string,
  atMs: number,
  lastUsedStep: number | null,
): number | null {
  const delta = TOTP.validate({
    token: code,
    secret: new Secret({ buffer: toArrayBuffer(secret) }),
    algorithm,
    digits: TOTP_DIGITS,
    period: TOTP_PERIOD_S,
    timestamp: atMs,
    window: TOTP_WINDOW,
    hmac,
  });
  if (delta === null) return null;
  const step = Math.floor(atMs / 1000 / TOTP_PERIOD_S) + delta;
  if (lastUsedStep !== null && step <= lastUsedStep) return null;
  return step;
}

function toArrayBuffer(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}
