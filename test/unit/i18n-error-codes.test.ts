import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.js';
import { en } from '../../web/src/i18n/locales/en.js';
import { ja } from '../../web/src/i18n/locales/ja.js';

describe('UI messages for error codes', () => {
  it('translates every server error code in Japanese and English (the UI never shows server strings)', () => {
    const codes = Object.keys(ERROR_CODES).sort();
    expect(codes.filter((c) => !Object.hasOwn(ja.errors, c))).toEqual([]);
    expect(codes.filter((c) => !Object.hasOwn(en.errors, c))).toEqual([]);
  });
});
