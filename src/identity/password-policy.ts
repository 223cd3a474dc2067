/**
 * The password policy engine (AC-16, AC-17): pure checks of a candidate password against a tenant's
 * policy. Every rejection carries a reason code the UI translates; nothing is truncated silently.
 */
import { dictionary } from '@zxcvbn-ts/language-common';
import type { PasswordPolicy } from '../tenants/tenant-settings.js';

export type PasswordRejection =
  'too_short' | 'too_long' | 'character_classes' | 'blocklisted' | 'context_word' | 'reused' | 'mismatch' | 'same_as_current';

/** Unicode passwords are compared and hashed in NFKC form (NIST SP 800-63B-4 §3.1.1.2). */
export function normalizePassword(password: string): string {
  return password.normalize('NFKC');
}

/** Length in Unicode code points, the unit the policy speaks in. */
export function passwordLength(password: string): number {
  return [...password].length;
}

let blocklist: Set<string> | undefined;
/**
 * Shipped list of 49,233 common and breached passwords (@zxcvbn-ts/language-common), compared
 * case-insensitively. It cannot be switched off.
 */
export function blocklistSize(): number {
  return loadBlocklist().size;
}

function loadBlocklist(): Set<string> {
  blocklist ??= new Set((dictionary['passwords-common'] as string[]).map((p) => p.toLowerCase()));
  return blocklist;
}

export function isBlocklisted(normalized: string): boolean {
  const lower = normalized.toLowerCase();
  return loadBlocklist().has(lower) || loadBlocklist().has(lower.replace(/[\d!@#$%^&*?.]+$/, ''));
}

export function characterClasses(password: string): number {
  return [/\p{Ll}/u, /\p{Lu}/u, /\p{Nd}/u, /[^\p{L}\p{Nd}]/u].filter((re) => re.test(password)).length;
}

export interface PasswordContext {
  policy: PasswordPolicy;
  /** Whether the user signs in with MFA (decides the minimum length). */
  mfa: boolean;
  /** Service name, tenant name and slug, login ID, display name, … (case-insensitive, parts ≥ 3 chars). */
  contextWords: string[];
}

export function minimumLength(ctx: Pick<PasswordContext, 'policy' | 'mfa'>): number {
  return ctx.mfa ? ctx.policy.minLengthWithMfa : ctx.policy.minLengthPasswordOnly;
}

/** Checks everything that does not need stored hashes (history is checked by the caller). */
export function checkPassword(password: string, ctx: PasswordContext): PasswordRejection[] {
  const pw = normalizePassword(password);
  const reasons: PasswordRejection[] = [];
  const len = passwordLength(pw);
  if (len < minimumLength(ctx)) reasons.push('too_short');
  if (len > ctx.policy.maxLength) reasons.push('too_long');
  if (ctx.policy.characterClasses > 0 && characterClasses(pw) < ctx.policy.characterClasses) reasons.push('character_classes');
  if (isBlocklisted(pw)) reasons.push('blocklisted');
  const lower = pw.toLowerCase();
  // Whole words, words without spaces, and their parts; a part counts from 3 characters (2 in CJK).
  const words = ctx.contextWords
    .flatMap((w) => [w, w.replace(/\s+/g, ''), ...w.split(/[\s@._-]+/)])
    .map((w) => normalizePassword(w).toLowerCase().trim())
    .filter((w) => [...w].length >= (/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u.test(w) ? 2 : 3));
  if (words.some((w) => lower.includes(w))) reasons.push('context_word');
  return reasons;
}

/** When a password set at `changedAt` expires under the policy, or null (validity 0 = never). */
export function passwordExpiresAt(changedAt: Date, policy: PasswordPolicy): Date | null {
  return policy.validityDays > 0 ? new Date(changedAt.getTime() + policy.validityDays * 86_400_000) : null;
}

/**
 * Lockout (AC-17): below the threshold no lock; at and above it the account locks for a delay that
 * doubles with each further failure (1 min, 2 min, 4 min, … capped at 24 h) until an admin unlocks
 * it or the delay passes.
 */
export function lockoutDelayMs(consecutiveFailures: number, threshold: number): number {
  if (consecutiveFailures < threshold) return 0;
  return Math.min(24 * 3_600_000, 60_000 * 2 ** (consecutiveFailures - threshold));
}
