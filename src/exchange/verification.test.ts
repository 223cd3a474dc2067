import { describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { checkCode, issueCode, newLinkToken, sessionValid, tokenHash, type Verifiable } from './verification.js';

const t0 = new Date('2026-11-26T00:00:00.000Z');
const later = (ms: number) => new Date(t0.getTime() + ms);
const fresh = (): Verifiable => ({
  id: 'r1',
  code_hash: null,
  code_expires_at: null,
  code_attempts: 0,
  locked_until: null,
  session_hash: null,
  session_expires_at: null,
});
const code = (e: unknown) => (e instanceof AppError ? e.code : String(e));

describe('link verification', () => {
  it('[TLS-03] tokens carry 256 bits and only their hash is kept', () => {
    const { token, hash } = newLinkToken();
    expect(Buffer.from(token, 'base64url')).toHaveLength(32);
    expect(hash).toBe(tokenHash(token));
    expect(hash).not.toContain(token);
  });

  it('[TLS-03] a 6-digit code opens a session once; it expires after 10 minutes', () => {
    let row = fresh();
    const issued = issueCode(row, t0);
    expect(issued.code).toMatch(/^\d{6}$/);
    row = { ...row, ...issued.update };
    const ok = checkCode(row, issued.code, later(60_000));
    expect(ok.ok).toBe(true);
    if (!ok.ok) return;
    const opened = { ...row, ...ok.update };
    expect(sessionValid(opened, ok.session, later(61_000))).toBe(true);
    expect(sessionValid(opened, 'other', later(61_000))).toBe(false);
    expect(sessionValid(opened, ok.session, later(60_000 + 30 * 60_000))).toBe(false);
    // Spent: the same code again is wrong.
    expect(checkCode(opened, issued.code, later(62_000)).ok).toBe(false);
    // Expired code.
    expect(checkCode(row, issued.code, later(10 * 60_000 + 1)).ok).toBe(false);
  });

  it('[TLS-03] the fifth wrong code locks the link for 30 minutes, even for the right code', () => {
    let row = fresh();
    const issued = issueCode(row, t0);
    row = { ...row, ...issued.update };
    const wrong = issued.code === '000000' ? '111111' : '000000';
    for (let i = 1; i <= 5; i++) {
      const r = checkCode(row, wrong, later(i));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.locked).toBe(i === 5);
      row = { ...row, ...r.update };
    }
    expect(() => checkCode(row, issued.code, later(10))).toThrow(AppError);
    try {
      issueCode(row, later(120_000));
    } catch (e) {
      expect(code(e)).toBe('exchange.code_locked');
    }
    // After the lock a new code can be issued.
    expect(issueCode(row, later(31 * 60_000)).code).toMatch(/^\d{6}$/);
  });

  it('a new code at most once a minute', () => {
    const row = { ...fresh(), ...issueCode(fresh(), t0).update };
    expect(() => issueCode(row, later(30_000))).toThrow(/./);
    expect(issueCode(row, later(61_000)).code).toMatch(/^\d{6}$/);
  });
});
