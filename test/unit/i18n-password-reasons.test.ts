import { describe, expect, it } from 'vitest';
import type { PasswordRejection } from '../../src/identity/password-policy.js';
import { en } from '../../web/src/i18n/locales/en.js';
import { ja } from '../../web/src/i18n/locales/ja.js';

/** Every rejection reason of the policy engine; the Record type fails to compile when one is added or missing. */
const REASONS: Record<PasswordRejection, true> = {
  too_short: true,
  too_long: true,
  character_classes: true,
  blocklisted: true,
  context_word: true,
  reused: true,
  mismatch: true,
  same_as_current: true,
};

describe('UI messages for password rejection reasons', () => {
  it('translates every reason the server can return in Japanese and English [AC-16]', () => {
    const reasons = Object.keys(REASONS).sort();
    expect(Object.keys(ja.password.reasons).sort()).toEqual(reasons);
    expect(Object.keys(en.password.reasons).sort()).toEqual(reasons);
    for (const r of reasons) {
      expect(ja.password.reasons[r as PasswordRejection]).toMatch(/[\u3040-\u30ff\u4e00-\u9fff]/);
      expect(en.password.reasons[r as PasswordRejection]).toMatch(/^[\x20-\x7e’]+$/);
    }
  });
});
