import { describe, expect, it } from 'vitest';
import { totpCode, verifyTotp } from './totp.js';

// RFC 6238 Appendix B: the SHA-256 seed is the 32-byte ASCII "12345678901234567890123456789012", 8 digits.
// We use 6 digits, so the expected values are the last 6 digits of the published 8-digit codes.
const SEED256 = Buffer.from('12345678901234567890123456789012');
const VECTORS: Array<[number, string]> = [
  [59, '46119246'],
  [1111111109, '68084774'],
  [1111111111, '67062674'],
  [1234567890, '91819424'],
  [2000000000, '90698825'],
];

describe('TOTP (RFC 6238) [AC-09]', () => {
  it('matches the RFC 6238 SHA-256 test vectors', () => {
    for (const [t, code] of VECTORS) expect(totpCode(SEED256, 'SHA256', t * 1000)).toBe(code.slice(-6));
  });

  it('accepts the previous, current and next step only', () => {
    const now = 1_800_000_000_000;
    const secret = Buffer.alloc(20, 3);
    for (const offset of [-30, 0, 30])
      expect(verifyTotp(secret, 'SHA256', totpCode(secret, 'SHA256', now + offset * 1000), now, null)).not.toBeNull();
    for (const offset of [-90, -60, 60, 90])
      expect(verifyTotp(secret, 'SHA256', totpCode(secret, 'SHA256', now + offset * 1000), now, null)).toBeNull();
  });

  it('refuses a code whose step was already used (replay)', () => {
    const now = 1_800_000_000_000;
    const secret = Buffer.alloc(20, 4);
    const code = totpCode(secret, 'SHA256', now);
    const step = verifyTotp(secret, 'SHA256', code, now, null)!;
    expect(verifyTotp(secret, 'SHA256', code, now + 5000, step)).toBeNull();
    expect(verifyTotp(secret, 'SHA256', totpCode(secret, 'SHA256', now - 30_000), now, step)).toBeNull();
    expect(verifyTotp(secret, 'SHA256', totpCode(secret, 'SHA256', now + 30_000), now, step)).toBe(step + 1);
  });

  it('keeps SHA-1 as an explicit compatibility choice that gives different codes', () => {
    const secret = Buffer.from('12345678901234567890');
    expect(totpCode(secret, 'SHA1', 59_000)).toBe('287082'); // RFC 6238 SHA-1 vector 94287082
    expect(totpCode(secret, 'SHA256', 59_000)).not.toBe('287082');
  });
});
