/**
 * Passkeys / FIDO2 security keys as a second factor (AC-09) through @simplewebauthn/server.
 * Signature algorithms are limited to the CRYPTREC-listed ES256 (ECDSA P-256) and RS256
 * (RSASSA-PKCS1-v1_5); Ed25519 is refused. The relying party is the zone's public host name; a
 * ceremony's challenge lives in the session row for 5 minutes and is used once.
 */
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Zone } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { AuthService, Principal } from './auth.service.js';
import { SERVICE_NAME } from './auth.service.js';
import type { NextStep } from './identity.schemas.js';
import type { MfaRepository } from './mfa.repository.js';
import type { SessionRepository } from './session.repository.js';

export const WEBAUTHN_ALGORITHMS = [-7, -257];
const CHALLENGE_TTL_MS = 5 * 60_000;

export interface WebAuthnServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  mfa: MfaRepository;
  sessions: SessionRepository;
  auth: AuthService;
  /** The origin browsers use for a zone, e.g. https://kura.example.lg.jp:8443 */
  origin: (zone: Zone) => string;
}

export class WebAuthnService {
  constructor(private readonly deps: WebAuthnServiceDeps) {}

  private rp(zone: Zone): { rpID: string; origin: string } {
    const origin = this.deps.origin(zone);
    return { rpID: new URL(origin).hostname, origin };
  }

  private async saveChallenge(p: Principal, challenge: string): Promise<void> {
    const until = new Date(this.deps.clock.now().getTime() + CHALLENGE_TTL_MS).toISOString();
    await this.deps.sessions.update(this.deps.database.db, p.user.tenantId, p.session.id, {
      webauthn_challenge: `${challenge}|${until}`,
    });
  }

  /** The pending challenge, consumed: a ceremony can be answered once. */
  private async takeChallenge(p: Principal): Promise<string> {
    const stored = p.session.webauthn_challenge;
    await this.deps.sessions.update(this.deps.database.db, p.user.tenantId, p.session.id, { webauthn_challenge: null });
    const [challenge, until] = (stored ?? '').split('|');
    if (!challenge || !until || until <= this.deps.clock.now().toISOString())
      throw new AppError('auth.mfa_invalid', 'no pending WebAuthn ceremony');
    return challenge;
  }

  async registrationOptions(p: Principal) {
    const { rpID } = this.rp(p.actor.zone!);
    const existing = await this.deps.mfa.passkeys(p.user.tenantId, p.user.id);
    const options = await generateRegistrationOptions({
      rpName: `${SERVICE_NAME} (${p.tenant.displayName})`,
      rpID,
      userName: `${p.user.loginId}@${p.tenant.slug}`,
      userDisplayName: p.user.displayName,
      userID: new TextEncoder().encode(p.user.id),
      attestationType: 'none',
      excludeCredentials: existing.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as string[] })),
      authenticatorSelection: { residentKey: 'preferred', userVerification: 'preferred' },
      supportedAlgorithmIDs: WEBAUTHN_ALGORITHMS,
    });
    await this.saveChallenge(p, options.challenge);
    return options;
  }

  /** Stores a new passkey; the first second factor also gets the ten recovery codes. */
  async register(
    p: Principal,
    response: RegistrationResponseJSON,
    name: string,
  ): Promise<{ next: NextStep; recoveryCodes: string[] }> {
    const expectedChallenge = await this.takeChallenge(p);
    const { rpID, origin } = this.rp(p.actor.zone!);
    let verified;
    try {
      verified = await verifyRegistrationResponse({
        response,
        expectedChallenge,
        expectedOrigin: origin,
        expectedRPID: rpID,
        supportedAlgorithmIDs: WEBAUTHN_ALGORITHMS,
        requireUserVerification: false,
      });
    } catch {
      verified = { verified: false as const };
    }
    if (!verified.verified || !verified.registrationInfo) {
      await this.deps.database.transaction((trx) =>
        this.deps.audit.append(trx, p.actor, {
          action: 'auth.mfa_failed',
          outcome: 'failure',
          reason: 'webauthn_registration_invalid',
          target: { type: 'user', id: p.user.id },
        }),
      );
      throw new AppError('auth.mfa_invalid');
    }
    const cred = verified.registrationInfo.credential;
    return this.deps.database.transaction(async (trx) => {
      const now = this.deps.clock.now().toISOString();
      const first = !(await this.deps.auth.hasSecondFactor(p.user.tenantId, p.user.id, trx));
      await this.deps.mfa.insertPasskey(trx, {
        tenant_id: p.user.tenantId,
        user_id: p.user.id,
        credential_id: cred.id,
        public_key: Buffer.from(cred.publicKey),
        counter: cred.counter,
        transports: JSON.stringify(cred.transports ?? []),
        name: name || 'passkey',
        created_at: now,
        last_used_at: null,
      });
      const codes = first ? await this.deps.auth.issueRecoveryCodes(trx, p.user) : [];
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.mfa_enrolled',
        target: { type: 'user', id: p.user.id },
        details: {
          method: 'webauthn',
          name,
          credential: cred.id.slice(0, 16),
          backedUp: verified.registrationInfo!.credentialBackedUp,
        },
      });
      const next: NextStep =
        p.session.stage === 'full' ? 'done' : await this.deps.auth.afterSecondFactor(trx, p, 'webauthn_enrolment');
      return { next, recoveryCodes: codes };
    });
  }

  async authenticationOptions(p: Principal) {
    const { rpID } = this.rp(p.actor.zone!);
    const creds = await this.deps.mfa.passkeys(p.user.tenantId, p.user.id);
    if (creds.length === 0) throw new AppError('auth.mfa_not_enrolled');
    const options = await generateAuthenticationOptions({
      rpID,
      allowCredentials: creds.map((c) => ({ id: c.credential_id, transports: JSON.parse(c.transports) as never[] })),
      userVerification: 'preferred',
    });
    await this.saveChallenge(p, options.challenge);
    return options;
  }

  /** Verifies an assertion for the `mfa` stage or a step-up. */
  async authenticate(p: Principal, response: AuthenticationResponseJSON, purpose: 'login' | 'step_up'): Promise<NextStep> {
    await this.deps.auth.assertNotLocked(p);
    const expectedChallenge = await this.takeChallenge(p);
    const { rpID, origin } = this.rp(p.actor.zone!);
    const cred = (await this.deps.mfa.passkeys(p.user.tenantId, p.user.id)).find((c) => c.credential_id === response.id);
    let result;
    try {
      result = cred
        ? await verifyAuthenticationResponse({
            response,
            expectedChallenge,
            expectedOrigin: origin,
            expectedRPID: rpID,
            credential: {
              id: cred.credential_id,
              publicKey: new Uint8Array(cred.public_key),
              counter: Number(cred.counter),
              transports: JSON.parse(cred.transports) as never[],
            },
            requireUserVerification: false,
          })
        : null;
    } catch {
      result = null;
    }
    if (!cred || !result?.verified) {
      await this.deps.auth.recordFailure(this.deps.auth.originOf(p), p.user.tenantId, p.user, p.settings, 'webauthn_invalid');
      throw new AppError('auth.mfa_invalid');
    }
    return this.deps.database.transaction(async (trx) => {
      const now = this.deps.clock.now().toISOString();
      await this.deps.mfa.usePasskey(trx, p.user.tenantId, cred.credential_id, result.authenticationInfo.newCounter, now);
      await this.deps.auth.clearFailures(trx, p.user);
      await this.deps.audit.append(trx, p.actor, {
        action: purpose === 'login' ? 'auth.mfa_verified' : 'auth.step_up',
        target: { type: 'user', id: p.user.id },
        details: { method: 'webauthn', credential: cred.credential_id.slice(0, 16) },
      });
      if (purpose === 'step_up') {
        await this.deps.sessions.update(trx, p.user.tenantId, p.session.id, { mfa_at: now });
        return 'done';
      }
      return this.deps.auth.afterSecondFactor(trx, p, 'webauthn');
    });
  }

  async list(p: Principal) {
    return (await this.deps.mfa.passkeys(p.user.tenantId, p.user.id)).map((c) => ({
      id: c.credential_id,
      name: c.name,
      createdAt: c.created_at,
      lastUsedAt: c.last_used_at,
    }));
  }

  /** Removes a passkey (step-up required by the route); the last second factor stays when MFA is required. */
  async remove(p: Principal, credentialId: string): Promise<void> {
    await this.deps.database.transaction(async (trx) => {
      const creds = await this.deps.mfa.passkeys(p.user.tenantId, p.user.id, trx);
      if (!creds.some((c) => c.credential_id === credentialId)) throw new AppError('route.not_found');
      const hasTotp = Boolean((await this.deps.mfa.totp(p.user.tenantId, p.user.id, trx))?.confirmed_at);
      if (creds.length === 1 && !hasTotp && this.deps.auth.mfaRequired(p.user, p.settings))
        throw new AppError('user.invalid_state', 'last second factor');
      await this.deps.mfa.deletePasskey(trx, p.user.tenantId, p.user.id, credentialId);
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.mfa_removed',
        target: { type: 'user', id: p.user.id },
        details: { method: 'webauthn', credential: credentialId.slice(0, 16) },
      });
    });
  }
}
