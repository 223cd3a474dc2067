import { describe, expect, it } from 'vitest';
import { PasswordPolicy } from '../tenants/tenant-settings.js';
import {
  blocklistSize,
  characterClasses,
  checkPassword,
  lockoutDelayMs,
  normalizePassword,
  passwordExpiresAt,
} from './password-policy.js';

const defaults = PasswordPolicy.parse({});
const ctx = (over: Partial<PasswordPolicy> = {}, mfa = true, contextWords: string[] = []) => ({
  policy: { ...defaults, ...over },
  mfa,
  contextWords,
});

describe('password policy engine [AC-17]', () => {
  it('has exactly the AC-17 defaults', () => {
    expect(defaults).toEqual({
      minLengthWithMfa: 8,
      minLengthPasswordOnly: 15,
      maxLength: 128,
      characterClasses: 0,
      history: 5,
      validityDays: 0,
      expiryWarningDays: 14,
      lockoutThreshold: 10,
    });
  });

  it('enforces the AC-17 ranges', () => {
    const bad = [
      { minLengthWithMfa: 7 },
      { minLengthWithMfa: 65 },
      { minLengthPasswordOnly: 11 },
      { maxLength: 63 },
      { characterClasses: 5 },
      { history: 25 },
      { validityDays: 29 },
      { validityDays: 731 },
      { expiryWarningDays: 61 },
      { lockoutThreshold: 2 },
      { lockoutThreshold: 101 },
    ];
    for (const b of bad) expect(PasswordPolicy.safeParse(b).success, JSON.stringify(b)).toBe(false);
    for (const ok of [{ validityDays: 0 }, { validityDays: 30 }, { validityDays: 730 }, { characterClasses: 4 }]) {
      expect(PasswordPolicy.safeParse(ok).success).toBe(true);
    }
  });

  it('needs 8 characters with MFA and 15 without', () => {
    expect(checkPassword('kx7#Lq2z', ctx())).toEqual([]);
    expect(checkPassword('kx7#Lq2', ctx())).toEqual(['too_short']);
    expect(checkPassword('kx7#Lq2zkx7#Lq2', ctx({}, false))).toEqual([]);
    expect(checkPassword('kx7#Lq2zkx7#Lq', ctx({}, false))).toEqual(['too_short']);
  });

  it('refuses passwords over the maximum instead of truncating them [AC-16]', () => {
    expect(checkPassword('a1b2c3d4e5'.repeat(13), ctx())).toContain('too_long');
  });

  it('ships a blocklist of at least 10,000 common passwords that always applies', () => {
    expect(blocklistSize()).toBeGreaterThanOrEqual(10_000);
    for (const pw of ['password', 'Password1', 'qwertyuiop', 'iloveyou!', 'sunshine2024'])
      expect(checkPassword(pw, ctx()), pw).toContain('blocklisted');
  });

  it('refuses context words: service, tenant, login ID, display name', () => {
    const words = ['kura', 'サンプル市', 'sample-city', 'tanaka.taro', '田中 太郎'];
    expect(checkPassword('MyKura!Secret9', ctx({}, true, words))).toContain('context_word');
    expect(checkPassword('xSAMPLE-city77', ctx({}, true, words))).toContain('context_word');
    expect(checkPassword('tanaka#2026zz', ctx({}, true, words))).toContain('context_word');
    expect(checkPassword('田中太郎は元気です', ctx({}, true, words))).toContain('context_word');
    expect(checkPassword('granite-violet-harbor', ctx({}, true, words))).toEqual([]);
  });

  it('applies an optional character-class rule', () => {
    expect(characterClasses('abcD3!')).toBe(4);
    expect(checkPassword('granite-violet-harbor', ctx({ characterClasses: 3 }))).toEqual(['character_classes']);
    expect(checkPassword('Granite-violet-harb0r', ctx({ characterClasses: 4 }))).toEqual([]);
  });

  it('normalises Unicode with NFKC', () => {
    expect(normalizePassword('ｐａｓｓｗｏｒｄ')).toBe('password');
    expect(checkPassword('ｐａｓｓｗｏｒｄ', ctx())).toContain('blocklisted');
  });

  it('computes expiry from the validity period (0 = never)', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    expect(passwordExpiresAt(t, defaults)).toBeNull();
    expect(passwordExpiresAt(t, { ...defaults, validityDays: 90 })?.toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });

  it('locks out progressively from the threshold', () => {
    expect(lockoutDelayMs(9, 10)).toBe(0);
    expect(lockoutDelayMs(10, 10)).toBe(60_000);
    expect(lockoutDelayMs(12, 10)).toBe(240_000);
    expect(lockoutDelayMs(40, 10)).toBe(24 * 3_600_000);
  });
});
