/**
 * One-time codes and link sessions for outside parties (TLS-03, TLS-04): 6-digit codes valid 10
 * minutes, stored hashed, locked after 5 wrong tries; a correct code opens a 30-minute session bound
 * to that one link. Pure rules over the row; the services store the results.
 */
import { constantTimeEqual, randomDigits, randomToken, sha256Hex } from '../crypto/primitives.js';
import { AppError } from '../core/errors.js';

export const CODE_DIGITS = 6;
export const CODE_TTL_MS = 10 * 60_000;
export const CODE_MAX_ATTEMPTS = 5;
export const LOCK_MS = 30 * 60_000;
export const RESEND_MS = 60_000;
export const SESSION_MS = 30 * 60_000;

/** The verification columns shared by upload requests and share recipients. */
export interface Verifiable {
  id: string;
  code_hash: string | null;
  code_expires_at: string | null;
  code_attempts: number;
  locked_until: string | null;
  session_hash: string | null;
  session_expires_at: string | null;
}

export type VerificationUpdate = Partial<Omit<Verifiable, 'id'>>;

/** Link tokens: 256 random bits; only their hash is stored. */
export function newLinkToken(): { token: string; hash: string } {
  const token = randomToken(32);
  return { token, hash: tokenHash(token) };
}

export function tokenHash(token: string): string {
  return sha256Hex(`kura-link:${token}`);
}

/** The cookie holding the session of one link (several links can be open in one browser). */
export function sessionCookieName(token: string): string {
  return `kura_x_${sha256Hex(`kura-cookie:${token}`).slice(0, 8)}`;
}

function codeHash(rowId: string, code: string): string {
  return sha256Hex(`kura-code:${rowId}:${code}`);
}

/** A fresh code for the row (replacing any earlier one); refused while locked or within a minute of the last. */
export function issueCode(row: Verifiable, now: Date): { code: string; update: VerificationUpdate } {
  if (row.locked_until && row.locked_until > now.toISOString()) throw new AppError('exchange.code_locked');
  if (row.code_expires_at && new Date(row.code_expires_at).getTime() - CODE_TTL_MS + RESEND_MS > now.getTime())
    throw new AppError('exchange.code_too_soon');
  const code = randomDigits(CODE_DIGITS);
  // Wrong tries are not forgiven by asking for another code: only a lock that ran out resets them.
  const lockOver = row.locked_until !== null && row.locked_until <= now.toISOString();
  return {
    code,
    update: {
      code_hash: codeHash(row.id, code),
      code_expires_at: new Date(now.getTime() + CODE_TTL_MS).toISOString(),
      ...(lockOver ? { code_attempts: 0, locked_until: null } : {}),
    },
  };
}

/** Whether `code` is the row's live code (constant-time). */
export function codeMatches(row: Verifiable, code: string, now: Date): boolean {
  const live = row.code_hash !== null && row.code_expires_at !== null && row.code_expires_at > now.toISOString();
  return live && /^\d{6,10}$/.test(code) && constantTimeEqual(Buffer.from(codeHash(row.id, code)), Buffer.from(row.code_hash!));
}

/** After a wrong answer that was attempt number `attempts`: the fifth locks the link (and spends the code). */
export function afterWrongAnswer(attempts: number, now: Date): { locked: boolean; update: VerificationUpdate } {
  const locked = attempts >= CODE_MAX_ATTEMPTS;
  return {
    locked,
    update: locked ? { locked_until: new Date(now.getTime() + LOCK_MS).toISOString(), code_hash: null } : {},
  };
}

export type CodeCheck =
  { ok: true; session: string; update: VerificationUpdate } | { ok: false; locked: boolean; update: VerificationUpdate };

/**
 * Checks a code against a row read before: right → a new session (the code is spent); wrong → one
 * more attempt, the fifth locks the link. The services count attempts atomically in the database
 * (`ExchangeRepository.claimAttempt`) so parallel guesses cannot share one attempt; this is the rule.
 */
export function checkCode(row: Verifiable, code: string, now: Date): CodeCheck {
  if (row.locked_until && row.locked_until > now.toISOString()) throw new AppError('exchange.code_locked');
  if (codeMatches(row, code, now)) return { ok: true, ...openSession(now) };
  const attempts = row.code_attempts + 1;
  const wrong = afterWrongAnswer(attempts, now);
  return { ok: false, locked: wrong.locked, update: { code_attempts: attempts, ...wrong.update } };
}

/** A new link session (after a code or a password). */
export function openSession(now: Date): { session: string; update: VerificationUpdate } {
  const session = randomToken(32);
  return {
    session,
    update: {
      session_hash: sha256Hex(`kura-session:${session}`),
      session_expires_at: new Date(now.getTime() + SESSION_MS).toISOString(),
      code_hash: null,
      code_expires_at: null,
      code_attempts: 0,
    },
  };
}

export function sessionValid(row: Verifiable, session: string | undefined, now: Date): boolean {
  if (!session || !row.session_hash || !row.session_expires_at || row.session_expires_at <= now.toISOString()) return false;
  return constantTimeEqual(Buffer.from(sha256Hex(`kura-session:${session}`)), Buffer.from(row.session_hash));
}
