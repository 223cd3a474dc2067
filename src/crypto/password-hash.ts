/**
 * Password hashing (AC-18): Argon2id with m = 19 MiB, t = 2, p = 1 (OWASP / NIST SP 800-63B-4
 * minimum), a random salt per hash, parameters kept in the PHC string so hashes are upgraded on
 * login when the parameters rise.
 */
import { hash, parseOptions, verify } from '@node-rs/argon2';

/** Argon2id (the enum value of @node-rs/argon2's const enum `Algorithm.Argon2id`). */
const ARGON2ID = 2;

export const ARGON2_PARAMS = { memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export async function hashPassword(password: string): Promise<string> {
  return hash(password, { ...ARGON2_PARAMS, algorithm: ARGON2ID });
}

/** Verifies without throwing: a malformed stored hash simply does not match. */
export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** True when a stored hash uses weaker parameters than today's (re-hash after a successful login). */
export function needsRehash(stored: string): boolean {
  try {
    const p = parseOptions(stored);
    return (
      Number(p.algorithm) !== ARGON2ID ||
      p.memoryCost < ARGON2_PARAMS.memoryCost ||
      p.timeCost < ARGON2_PARAMS.timeCost ||
      p.parallelism !== ARGON2_PARAMS.parallelism
    );
  } catch {
    return true;
  }
}

let dummy: Promise<string> | undefined;
/**
 * A hash of a random password, verified against when a login ID does not exist so the answer takes
 * as long as a real check (AC-18: timing does not reveal whether an account exists).
 */
export function dummyPasswordHash(): Promise<string> {
  dummy ??= hashPassword(`dummy-${Math.random()}-${Date.now()}`);
  return dummy;
}
