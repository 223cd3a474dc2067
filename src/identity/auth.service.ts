/**
 * Sign-in and credentials (AC-09, AC-12, AC-13, AC-16–AC-18): password login with lockout, TOTP
 * and recovery codes, enrolment, password change, setup links, step-up and logout. Every outcome,
 * failures included, is an audit event written in the transaction of the change it records.
 */
import QRCode from 'qrcode';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { SYSTEM_TENANT_ID, type Actor, type TenantId, type Zone } from '../core/types.js';
import type { TenantKeyring } from '../crypto/keyring.js';
import { dummyPasswordHash, hashPassword, needsRehash, verifyPassword } from '../crypto/password-hash.js';
import { randomBytes, sha256Hex } from '../crypto/primitives.js';
import { newTotpSecret, totpSecretBase32, totpUri, verifyTotp, type TotpAlgorithm } from '../crypto/totp.js';
import type { Database, Executor } from '../db/database.js';
import type { SessionsTable, SessionStage } from '../db/schema.js';
import type { Transaction } from 'kysely';
import type { DB } from '../db/schema.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import { isFeatureEnabled } from '../tenants/feature-guard.js';
import { MFA_MANDATORY_ROLES, TENANT_ROLES, type TenantSettings } from '../tenants/tenant-settings.js';
import type { ApiTokenRepository } from './api-token.repository.js';
import { ipAllowed } from './ip-policy.js';
import { checkDevice, deviceCertRequired } from './device-policy.js';
import { normalizeLoginId, type NextStep } from './identity.schemas.js';
import { totpKeyId, type MfaRepository } from './mfa.repository.js';
import {
  checkPassword,
  lockoutDelayMs,
  minimumLength,
  normalizePassword,
  passwordExpiresAt,
  passwordLength,
} from './password-policy.js';
import type { RequestOrigin, SessionService } from './session.service.js';
import type { SessionRepository } from './session.repository.js';
import type { User, UserRepository } from './user.repository.js';

export const SERVICE_NAME = 'Kura';
export const RECOVERY_CODE_COUNT = 10;

export interface AuthServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  tenants: TenantRepository;
  policy: TenantPolicyService;
  users: UserRepository;
  mfa: MfaRepository;
  sessions: SessionRepository;
  sessionService: SessionService;
  keyring: TenantKeyring<Transaction<DB>>;
  /** API tokens, revoked when the password changes or is reset (AC-15, HR-07). */
  tokens: ApiTokenRepository;
}

/** What a request has once its session cookie (or API token) has been resolved. */
export interface Principal {
  user: User;
  /** For API tokens a synthetic, always-`full` session that never satisfies step-up. */
  session: SessionsTable;
  via: 'session' | 'token';
  /** Scopes of the API token; empty for sessions. */
  scopes: string[];
  /** Set when a provider operator acts inside a tenant under an approved lockbox grant (AC-07). */
  supportGrantId?: string;
  settings: TenantSettings;
  tenant: { id: TenantId; slug: string; displayName: string };
  actor: Actor;
}

export interface LoginResult {
  token: string;
  csrfToken: string;
  next: NextStep;
}

export class AuthService {
  private readonly tokens: ApiTokenRepository;

  constructor(private readonly deps: AuthServiceDeps) {
    this.tokens = deps.tokens;
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private actorFor(origin: RequestOrigin, tenantId: string, user?: User): Actor {
    return {
      type: user ? 'user' : 'anonymous',
      id: user?.id ?? null,
      tenantId: tenantId as TenantId,
      ip: origin.ip,
      zone: origin.zone,
      userAgent: origin.userAgent,
      requestId: origin.requestId,
    };
  }

  /** Whether the user has an enrolled second factor: a confirmed TOTP or a passkey. */
  async hasSecondFactor(tenantId: string, userId: string, exec?: Executor): Promise<boolean> {
    if ((await this.deps.mfa.totp(tenantId, userId, exec))?.confirmed_at) return true;
    return (await this.deps.mfa.passkeyCount(tenantId, userId, exec)) > 0;
  }

  /** Whether this user must use MFA under the tenant's policy (admins and approvers always). */
  mfaRequired(user: Pick<User, 'role'>, settings: TenantSettings): boolean {
    return settings.mfa.requiredForAll || MFA_MANDATORY_ROLES.includes(user.role);
  }

  passwordChangeDue(user: User, settings: TenantSettings): boolean {
    if (user.mustChangePassword) return true;
    const exp = user.passwordChangedAt ? passwordExpiresAt(new Date(user.passwordChangedAt), settings.password) : null;
    return exp !== null && exp <= this.now();
  }

  /** Step 1 of sign-in. Answers the same for an unknown tenant, unknown login and wrong password. */
  async login(origin: RequestOrigin, input: { tenant: string; login: string; password: string }): Promise<LoginResult> {
    const { database, audit, users } = this.deps;
    const tenant = await this.deps.tenants.findBySlug(input.tenant.trim().toLowerCase());
    // The system tenant's only users are the provider's operators (AC-07).
    if (!tenant || tenant.status !== 'active') {
      await verifyPassword(await dummyPasswordHash(), input.password);
      await database.transaction((trx) =>
        audit.append(trx, this.actorFor(origin, SYSTEM_TENANT_ID), {
          action: 'auth.login_failed',
          outcome: 'failure',
          reason: 'unknown_tenant',
          details: { tenantSlugHash: sha256Hex(input.tenant).slice(0, 16) },
        }),
      );
      throw new AppError('auth.invalid_credentials');
    }
    const settings = await this.deps.policy.get(tenant.id);
    // A refusal that holds whoever signs in is answered before any credential is looked at: it tells
    // nothing about the login or the password, and staff are told where the problem is (AC-10, AC-11).
    await this.enforceEveryRole(this.actorFor(origin, tenant.id), settings, origin.clientCert);
    const loginId = normalizeLoginId(input.login);
    const user = await users.findByLogin(tenant.id, loginId);
    if (!user || user.state !== 'active' || !user.passwordHash) {
      await verifyPassword(await dummyPasswordHash(), input.password);
      await database.transaction((trx) =>
        audit.append(trx, this.actorFor(origin, tenant.id), {
          action: 'auth.login_failed',
          outcome: 'failure',
          reason: user ? `user_${user.state}` : 'unknown_login',
          ...(user ? { target: { type: 'user', id: user.id } } : {}),
          details: user ? {} : { loginIdHash: sha256Hex(loginId).slice(0, 16) },
        }),
      );
      throw new AppError('auth.invalid_credentials');
    }
    const password = normalizePassword(input.password);
    const now = this.now();
    if (this.isLocked(user)) {
      // While locked, the password is not checked at all (the same time is spent on a dummy hash):
      // no answer may tell a right guess from a wrong one (AC-17). Failures here do not count.
      await verifyPassword(await dummyPasswordHash(), input.password);
      await database.transaction((trx) =>
        audit.append(trx, this.actorFor(origin, tenant.id, user), {
          action: 'auth.login_failed',
          outcome: 'denied',
          reason: 'auth.locked',
          target: { type: 'user', id: user.id },
        }),
      );
      throw new AppError('auth.locked');
    }
    const ok = passwordLength(password) <= settings.password.maxLength && (await verifyPassword(user.passwordHash, password));
    if (!ok) {
      await this.recordFailure(origin, tenant.id, user, settings, 'wrong_password');
      throw new AppError('auth.invalid_credentials');
    }
    try {
      await this.enforceUserAccess(this.actorFor(origin, tenant.id, user), settings, user.role, origin.clientCert, 'login');
    } catch (err) {
      // A refusal for this user's role alone, after a right password, would confirm the password to
      // whoever guessed it from the wrong network or device. The audit event keeps the real reason.
      if (err instanceof AppError && (err.code === 'tenant.ip_denied' || err.code === 'tenant.device_denied')) {
        throw new AppError('auth.invalid_credentials');
      }
      throw err;
    }
    const rehash = needsRehash(user.passwordHash) ? await hashPassword(password) : null;
    const hasTotp = await this.hasSecondFactor(tenant.id, user.id);
    const stage: SessionStage = hasTotp
      ? 'mfa'
      : this.mfaRequired(user, settings)
        ? 'mfa_enroll'
        : this.passwordChangeDue(user, settings)
          ? 'password_change'
          : 'full';
    return database.transaction(async (trx) => {
      await users.update(trx, tenant.id, user.id, {
        // With a second factor still to come, the count goes on until that succeeds too.
        ...(stage === 'mfa' ? {} : { failed_attempts: 0, locked_until: null }),
        ...(rehash ? { password_hash: rehash } : {}),
        updated_at: now.toISOString(),
      });
      const { token, session } = await this.deps.sessionService.create(trx, user, settings, origin, stage);
      const actor = this.actorFor(origin, tenant.id, user);
      await audit.append(trx, actor, {
        action: 'auth.password_verified',
        target: { type: 'user', id: user.id },
        details: { next: stage, rehashed: Boolean(rehash) },
      });
      const next = stage === 'full' ? await this.finishLogin(trx, actor, user, session, settings, 'password') : toNext(stage);
      return { token, csrfToken: session.csrf_token, next };
    });
  }

  async recordFailure(
    origin: RequestOrigin,
    tenantId: string,
    user: User,
    settings: TenantSettings,
    reason: string,
  ): Promise<void> {
    const now = this.now();
    await this.deps.database.transaction(async (trx) => {
      const failures = await this.deps.users.countFailure(trx, tenantId, user.id, now.toISOString());
      const delay = lockoutDelayMs(failures, settings.password.lockoutThreshold);
      if (delay > 0) {
        await this.deps.users.update(trx, tenantId, user.id, {
          locked_until: new Date(now.getTime() + delay).toISOString(),
        });
      }
      const actor = this.actorFor(origin, tenantId, user);
      await this.deps.audit.append(trx, actor, {
        action:
          reason === 'wrong_password'
            ? 'auth.login_failed'
            : reason === 'password.current_invalid'
              ? 'auth.password_change_failed'
              : 'auth.mfa_failed',
        outcome: 'failure',
        reason,
        target: { type: 'user', id: user.id },
        details: { consecutiveFailures: failures },
      });
      if (delay > 0) {
        await this.deps.audit.append(trx, actor, {
          action: 'auth.locked_out',
          outcome: 'denied',
          target: { type: 'user', id: user.id },
          details: { consecutiveFailures: failures, lockedForSeconds: delay / 1000 },
        });
      }
    });
  }

  private isLocked(user: Pick<User, 'lockedUntil'>): boolean {
    return user.lockedUntil !== null && user.lockedUntil > this.now().toISOString();
  }

  /** A second factor or step-up succeeded: the count of consecutive failures starts again. */
  async clearFailures(trx: Executor, user: Pick<User, 'tenantId' | 'id'>): Promise<void> {
    await this.deps.users.update(trx, user.tenantId, user.id, { failed_attempts: 0, locked_until: null });
  }

  /**
   * Every credential check after the password (second factor, step-up, current password) is
   * refused while the account is locked, so the lockout limits guessing of those too (AC-17).
   */
  async assertNotLocked(p: Principal): Promise<void> {
    if (!this.isLocked(p.user)) return;
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, p.actor, {
        action: 'auth.mfa_failed',
        outcome: 'denied',
        reason: 'auth.locked',
        target: { type: 'user', id: p.user.id },
      }),
    );
    throw new AppError('auth.locked');
  }

  private async denyIp(actor: Actor, where: string): Promise<never> {
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'tenant.ip_denied',
        outcome: 'denied',
        reason: 'tenant.ip_denied',
        details: { where },
      }),
    );
    throw new AppError('tenant.ip_denied');
  }

  /** Enforces the IP rules (AC-10) and the device-certificate rule (AC-11) on an authenticated request. */
  async enforceAccess(p: Principal, clientCert: Buffer | null | undefined): Promise<void> {
    await this.enforceUserAccess(p.actor, p.settings, p.user.role, clientCert, 'request');
  }

  /** Refuses (and audits) an address or device that no role of the tenant may use on this zone. */
  private async enforceEveryRole(actor: Actor, settings: TenantSettings, cert: Buffer | null | undefined): Promise<void> {
    const zone = actor.zone!;
    if (TENANT_ROLES.every((role) => !ipAllowed(settings.ipRules, zone, role, actor.ip ?? ''))) await this.denyIp(actor, 'login');
    if (TENANT_ROLES.every((role) => deviceCertRequired(settings, zone, role))) {
      await this.enforceDevice(actor, settings, TENANT_ROLES[0], zone, cert, 'login');
    }
  }

  /** IP allow-list (AC-10) then device certificate (AC-11) for a known user; each denial is audited. */
  private async enforceUserAccess(
    actor: Actor,
    settings: TenantSettings,
    role: User['role'],
    cert: Buffer | null | undefined,
    where: string,
  ): Promise<void> {
    if (!ipAllowed(settings.ipRules, actor.zone!, role, actor.ip ?? '')) await this.denyIp(actor, where);
    await this.enforceDevice(actor, settings, role, actor.zone!, cert, where);
  }

  private async enforceDevice(
    actor: Actor,
    settings: TenantSettings,
    role: User['role'],
    zone: Zone,
    cert: Buffer | null | undefined,
    where: string,
  ): Promise<void> {
    if (!deviceCertRequired(settings, zone, role)) return;
    const check = checkDevice(settings, cert, this.now());
    if (check.ok) return;
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'tenant.device_denied',
        outcome: 'denied',
        reason: `device.${check.reason}`,
        details: {
          where,
          ...(check.subject ? { subject: check.subject, fingerprint256: check.fingerprint256, serial: check.serialNumber } : {}),
        },
      }),
    );
    throw new AppError('tenant.device_denied');
  }

  /**
   * The last step of every sign-in path: the acceptable-use notice when a new version awaits the
   * user (HR-03), otherwise the session becomes fully signed in.
   */
  private async finishLogin(
    trx: Transaction<DB>,
    actor: Actor,
    user: User,
    session: SessionsTable,
    settings: TenantSettings,
    method: string,
  ): Promise<NextStep> {
    if (settings.acceptableUse.version > user.termsVersion) {
      await this.deps.sessions.update(trx, user.tenantId, session.id, { stage: 'terms' });
      return 'terms';
    }
    await this.completeLogin(trx, actor, user, session, method);
    return 'done';
  }

  /** Marks the session fully signed in and records the login shown next time (AC-12). */
  private async completeLogin(
    trx: Transaction<DB>,
    actor: Actor,
    user: User,
    session: SessionsTable,
    method: string,
  ): Promise<void> {
    const now = this.now().toISOString();
    await this.deps.sessions.update(trx, user.tenantId, session.id, {
      stage: 'full',
      prev_login_at: user.lastLoginAt,
      prev_login_ip: user.lastLoginIp,
      prev_login_zone: user.lastLoginZone,
      prev_failures: user.failuresSinceLogin,
    });
    await this.deps.users.update(trx, user.tenantId, user.id, {
      last_login_at: now,
      last_login_ip: actor.ip ?? null,
      last_login_zone: actor.zone ?? null,
      failures_since_login: 0,
      updated_at: now,
    });
    await this.deps.audit.append(trx, actor, {
      action: 'auth.login_succeeded',
      target: { type: 'user', id: user.id },
      details: { method },
    });
  }

  /** After a second factor: on to a forced password change, or fully signed in. */
  async afterSecondFactor(trx: Transaction<DB>, p: Principal, method: string): Promise<NextStep> {
    const now = this.now().toISOString();
    const user = (await this.deps.users.findById(p.user.tenantId, p.user.id, trx))!;
    if (this.passwordChangeDue(user, p.settings)) {
      await this.deps.sessions.update(trx, user.tenantId, p.session.id, { stage: 'password_change', mfa_at: now });
      return 'password_change';
    }
    await this.deps.sessions.update(trx, user.tenantId, p.session.id, { mfa_at: now });
    return this.finishLogin(trx, p.actor, user, p.session, p.settings, method);
  }

  private async totpSecret(
    p: Principal,
  ): Promise<{ secret: Buffer; algorithm: TotpAlgorithm; confirmed: boolean; lastStep: number | null } | null> {
    const row = await this.deps.mfa.totp(p.user.tenantId, p.user.id);
    if (!row) return null;
    const secret = await this.deps.keyring.unwrapDek(
      p.user.tenantId,
      row.kek_version,
      Buffer.from(row.secret_wrapped),
      totpKeyId(p.user.id),
    );
    return {
      secret,
      algorithm: row.algorithm as TotpAlgorithm,
      confirmed: Boolean(row.confirmed_at),
      lastStep: row.last_used_step === null ? null : Number(row.last_used_step),
    };
  }

  /** Verifies a TOTP code (±1 step, each step once) for the `mfa` stage or a step-up. */
  async verifyTotpCode(p: Principal, code: string, purpose: 'login' | 'step_up'): Promise<NextStep> {
    if (!/^\d{6}$/.test(code.trim())) throw new AppError('auth.totp_format');
    await this.assertNotLocked(p);
    const totp = await this.totpSecret(p);
    if (!totp?.confirmed) throw new AppError('auth.mfa_not_enrolled');
    const step = verifyTotp(totp.secret, totp.algorithm, code.trim(), this.now().getTime(), totp.lastStep);
    if (step === null) {
      await this.recordFailure(this.originOf(p), p.user.tenantId, p.user, p.settings, 'totp_invalid');
      throw new AppError('auth.mfa_invalid');
    }
    return this.deps.database.transaction(async (trx) => {
      if (!(await this.deps.mfa.useStep(trx, p.user.tenantId, p.user.id, step))) throw new AppError('auth.mfa_invalid');
      await this.clearFailures(trx, p.user);
      await this.deps.audit.append(trx, p.actor, {
        action: purpose === 'login' ? 'auth.mfa_verified' : 'auth.step_up',
        target: { type: 'user', id: p.user.id },
        details: { method: 'totp' },
      });
      if (purpose === 'step_up') {
        await this.deps.sessions.update(trx, p.user.tenantId, p.session.id, { mfa_at: this.now().toISOString() });
        return 'done';
      }
      return this.afterSecondFactor(trx, p, 'totp');
    });
  }

  async verifyRecoveryCode(p: Principal, code: string): Promise<NextStep> {
    const normalized = normalizeRecoveryCode(code);
    if (!normalized) throw new AppError('auth.recovery_code_format');
    await this.assertNotLocked(p);
    const used = await this.deps.database.transaction(async (trx) => {
      if (
        !(await this.deps.mfa.useRecoveryCode(trx, p.user.tenantId, p.user.id, sha256Hex(normalized), this.now().toISOString()))
      )
        return null;
      await this.clearFailures(trx, p.user);
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.recovery_code_used',
        target: { type: 'user', id: p.user.id },
        details: { left: await this.deps.mfa.recoveryCodesLeft(p.user.tenantId, p.user.id, trx) },
      });
      return this.afterSecondFactor(trx, p, 'recovery_code');
    });
    if (used === null) {
      await this.recordFailure(this.originOf(p), p.user.tenantId, p.user, p.settings, 'recovery_code_invalid');
      throw new AppError('auth.mfa_invalid');
    }
    return used;
  }

  /** Starts TOTP enrolment: a new secret, wrapped with the tenant key (ENC-02), unconfirmed until a code matches. */
  async startTotpEnrollment(
    p: Principal,
  ): Promise<{ secret: string; otpauthUri: string; qrDataUrl: string; algorithm: TotpAlgorithm }> {
    const existing = await this.deps.mfa.totp(p.user.tenantId, p.user.id);
    if (existing?.confirmed_at) throw new AppError('user.invalid_state', 'TOTP already enrolled; an admin reset comes first');
    const secret = newTotpSecret();
    const algorithm = p.settings.mfa.totpAlgorithm;
    const wrapped = await this.deps.keyring.wrapDek(p.user.tenantId, secret, totpKeyId(p.user.id));
    await this.deps.database.transaction(async (trx) => {
      await this.deps.mfa.putTotp(trx, {
        tenant_id: p.user.tenantId,
        user_id: p.user.id,
        secret_wrapped: wrapped.wrappedDek,
        kek_version: wrapped.kekVersion,
        algorithm,
        confirmed_at: null,
        last_used_step: null,
        created_at: this.now().toISOString(),
      });
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.mfa_enrollment_started',
        target: { type: 'user', id: p.user.id },
        details: { method: 'totp', algorithm },
      });
    });
    const uri = totpUri(secret, { issuer: `${SERVICE_NAME} (${p.tenant.slug})`, label: p.user.loginId, algorithm });
    return {
      secret: totpSecretBase32(secret),
      otpauthUri: uri,
      qrDataUrl: await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 }),
      algorithm,
    };
  }

  /** Confirms enrolment with a first code; returns ten single-use recovery codes, shown once. */
  async confirmTotpEnrollment(p: Principal, code: string): Promise<{ next: NextStep; recoveryCodes: string[] }> {
    if (!/^\d{6}$/.test(code.trim())) throw new AppError('auth.totp_format');
    const totp = await this.totpSecret(p);
    if (!totp || totp.confirmed) throw new AppError('user.invalid_state', 'no enrolment in progress');
    const step = verifyTotp(totp.secret, totp.algorithm, code.trim(), this.now().getTime(), null);
    if (step === null) {
      await this.deps.database.transaction((trx) =>
        this.deps.audit.append(trx, p.actor, {
          action: 'auth.mfa_failed',
          outcome: 'failure',
          reason: 'enrolment_code_invalid',
          target: { type: 'user', id: p.user.id },
        }),
      );
      throw new AppError('auth.mfa_invalid');
    }
    return this.deps.database.transaction(async (trx) => {
      const now = this.now().toISOString();
      await this.deps.mfa.confirmTotp(trx, p.user.tenantId, p.user.id, now, step);
      const codes = await this.issueRecoveryCodes(trx, p.user);
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.mfa_enrolled',
        target: { type: 'user', id: p.user.id },
        details: { method: 'totp', recoveryCodes: RECOVERY_CODE_COUNT },
      });
      const next: NextStep = p.session.stage === 'full' ? 'done' : await this.afterSecondFactor(trx, p, 'totp_enrolment');
      return { next, recoveryCodes: codes };
    });
  }

  /** Ten new single-use recovery codes replacing any earlier ones; only their SHA-256 is stored. */
  async issueRecoveryCodes(trx: Executor, user: Pick<User, 'tenantId' | 'id'>): Promise<string[]> {
    const codes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await this.deps.mfa.replaceRecoveryCodes(
      trx,
      user.tenantId,
      user.id,
      codes.map((c) => sha256Hex(c)),
      this.now().toISOString(),
    );
    return codes;
  }

  /** Checks a candidate password against the tenant policy for this user (live feedback; history excluded). */
  checkCandidate(
    user: Pick<User, 'loginId' | 'displayName' | 'email' | 'role'>,
    tenant: { slug: string; displayName: string },
    settings: TenantSettings,
    password: string,
  ) {
    const ctx = {
      policy: settings.password,
      mfa: this.mfaRequired(user, settings),
      contextWords: [SERVICE_NAME, '蔵', tenant.slug, tenant.displayName, user.loginId, user.displayName, user.email ?? ''],
    };
    return { reasons: checkPassword(password, ctx), minLength: minimumLength(ctx), maxLength: settings.password.maxLength };
  }

  private async assertAcceptable(
    user: User,
    tenant: { slug: string; displayName: string },
    settings: TenantSettings,
    password: string,
    confirm: string,
  ): Promise<string> {
    const pw = normalizePassword(password);
    const reasons: string[] = this.checkCandidate(user, tenant, settings, pw).reasons;
    if (pw !== normalizePassword(confirm)) reasons.push('mismatch');
    if (reasons.length === 0 && settings.password.history > 0) {
      // The history holds the current hash too (stored with it): count it once.
      const previous = [
        ...new Set([
          user.passwordHash,
          ...(await this.deps.users.recentHistory(user.tenantId, user.id, settings.password.history)),
        ]),
      ].filter((h): h is string => Boolean(h));
      for (const h of previous.slice(0, settings.password.history)) {
        if (await verifyPassword(h, pw)) {
          reasons.push(h === user.passwordHash ? 'same_as_current' : 'reused');
          break;
        }
      }
    }
    if (reasons.length) throw new AppError('password.rejected', undefined, reasons);
    return pw;
  }

  private async storePassword(trx: Executor, user: User, pw: string): Promise<void> {
    const now = this.now().toISOString();
    const hash = await hashPassword(pw);
    await this.deps.users.update(trx, user.tenantId, user.id, {
      password_hash: hash,
      password_changed_at: now,
      must_change_password: 0,
      updated_at: now,
    });
    await this.deps.users.addHistory(trx, user.tenantId, user.id, hash, now);
  }

  /**
   * Interactive change (AC-16): current + new + confirmation; ends every other session of the user
   * and every API token, which may have been taken with the old password (AC-15).
   */
  async changePassword(
    p: Principal,
    input: { currentPassword: string; newPassword: string; confirmPassword: string },
  ): Promise<NextStep> {
    const user = p.user;
    await this.assertNotLocked(p);
    if (!user.passwordHash || !(await verifyPassword(user.passwordHash, normalizePassword(input.currentPassword)))) {
      // A wrong current password counts towards the lockout like a wrong one at sign-in (AC-17).
      await this.recordFailure(this.originOf(p), user.tenantId, user, p.settings, 'password.current_invalid');
      throw new AppError('password.current_invalid');
    }
    let pw: string;
    try {
      pw = await this.assertAcceptable(user, p.tenant, p.settings, input.newPassword, input.confirmPassword);
    } catch (err) {
      if (err instanceof AppError) {
        await this.deps.database.transaction((trx) =>
          this.deps.audit.append(trx, p.actor, {
            action: 'auth.password_change_failed',
            outcome: 'failure',
            reason: 'password.rejected',
            target: { type: 'user', id: user.id },
            details: { reasons: err.reasons ?? [] },
          }),
        );
      }
      throw err;
    }
    return this.deps.database.transaction(async (trx): Promise<NextStep> => {
      await this.storePassword(trx, user, pw);
      const now = this.now().toISOString();
      const ended = await this.deps.sessions.revoke(trx, user.tenantId, user.id, now, 'password_changed', {
        exceptId: p.session.id,
      });
      const tokensRevoked = await this.tokens.revokeAllForUser(trx, user.tenantId, user.id, now);
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.password_changed',
        target: { type: 'user', id: user.id },
        details: { forced: p.session.stage === 'password_change', otherSessionsEnded: ended, tokensRevoked },
      });
      if (p.session.stage === 'password_change') {
        return this.finishLogin(trx, p.actor, { ...user, mustChangePassword: false }, p.session, p.settings, 'password_change');
      }
      return 'done';
    });
  }

  private async setupTarget(token: string): Promise<{
    row: NonNullable<Awaited<ReturnType<UserRepository['findSetupToken']>>>;
    user: User;
    tenant: { id: TenantId; slug: string; displayName: string };
    settings: TenantSettings;
  }> {
    const row = /^[A-Za-z0-9_-]{20,128}$/.test(token) ? await this.deps.users.findSetupToken(sha256Hex(token)) : undefined;
    if (!row || row.used_at || row.expires_at <= this.now().toISOString()) throw new AppError('auth.setup_link_invalid');
    const user = await this.deps.users.findById(row.tenant_id, row.user_id);
    const tenant = await this.deps.tenants.findById(row.tenant_id);
    if (!user || user.state !== 'active' || !tenant || tenant.status !== 'active') throw new AppError('auth.setup_link_invalid');
    return { row, user, tenant, settings: await this.deps.policy.get(tenant.id) };
  }

  async inspectSetup(token: string) {
    const { user, tenant, settings } = await this.setupTarget(token);
    const c = this.checkCandidate(user, tenant, settings, '');
    return {
      tenant: { slug: tenant.slug, displayName: tenant.displayName },
      loginId: user.loginId,
      displayName: user.displayName,
      mfaRequired: this.mfaRequired(user, settings),
      minLength: c.minLength,
      maxLength: c.maxLength,
    };
  }

  async setupCandidate(token: string, password: string) {
    const { user, tenant, settings } = await this.setupTarget(token);
    return this.checkCandidate(user, tenant, settings, password);
  }

  /** Sets the first password through a one-time link (410 when expired or used) and signs in. */
  async completeSetup(
    origin: RequestOrigin,
    input: { token: string; password: string; confirmPassword: string },
  ): Promise<LoginResult> {
    const { row, user, tenant, settings } = await this.setupTarget(input.token);
    await this.enforceUserAccess(this.actorFor(origin, tenant.id, user), settings, user.role, origin.clientCert, 'setup');
    const pw = await this.assertAcceptable(user, tenant, settings, input.password, input.confirmPassword);
    return this.deps.database.transaction(async (trx) => {
      if (!(await this.deps.users.consumeSetupToken(trx, tenant.id, row.token_hash, this.now().toISOString())))
        throw new AppError('auth.setup_link_invalid');
      await this.storePassword(trx, user, pw);
      await this.deps.users.update(trx, tenant.id, user.id, { failed_attempts: 0, locked_until: null });
      // A reset replaces a password that may be known to someone else: every session signed in
      // with it and every API token ends, as after a password change (AC-16, AC-15).
      const now = this.now().toISOString();
      const reset = row.purpose === 'reset';
      const ended = reset ? await this.deps.sessions.revoke(trx, tenant.id, user.id, now, 'password_reset') : 0;
      const tokensRevoked = reset ? await this.tokens.revokeAllForUser(trx, tenant.id, user.id, now) : 0;
      const actor = this.actorFor(origin, tenant.id, user);
      await this.deps.audit.append(trx, actor, {
        action: 'user.setup_completed',
        target: { type: 'user', id: user.id },
        details: { purpose: row.purpose, sessionsEnded: ended, tokensRevoked },
      });
      const hasTotp = await this.hasSecondFactor(tenant.id, user.id, trx);
      const stage: SessionStage = hasTotp ? 'mfa' : this.mfaRequired(user, settings) ? 'mfa_enroll' : 'full';
      const { token, session } = await this.deps.sessionService.create(trx, user, settings, origin, stage);
      const next = stage === 'full' ? await this.finishLogin(trx, actor, user, session, settings, 'setup_link') : toNext(stage);
      return { token, csrfToken: session.csrf_token, next };
    });
  }

  async loginBanner(slug: string): Promise<string> {
    const tenant = await this.deps.tenants.findBySlug(slug.trim().toLowerCase());
    if (!tenant || tenant.status !== 'active') return '';
    return (await this.deps.policy.get(tenant.id)).loginBanner;
  }

  terms(p: Principal): { version: number; text: string } {
    return { version: p.settings.acceptableUse.version, text: p.settings.acceptableUse.text };
  }

  /** Records acceptance of the current acceptable-use notice (HR-03: user, version, time, IP audited). */
  async acceptTerms(p: Principal, version: number): Promise<NextStep> {
    if (version !== p.settings.acceptableUse.version) throw new AppError('auth.terms_outdated');
    return this.deps.database.transaction(async (trx): Promise<NextStep> => {
      const now = this.now().toISOString();
      await this.deps.users.update(trx, p.user.tenantId, p.user.id, {
        terms_version: version,
        terms_accepted_at: now,
        updated_at: now,
      });
      await this.deps.audit.append(trx, p.actor, {
        action: 'user.terms_accepted',
        target: { type: 'user', id: p.user.id },
        details: { version },
      });
      if (p.session.stage !== 'terms') return 'done';
      await this.completeLogin(trx, p.actor, p.user, p.session, 'terms');
      return 'done';
    });
  }

  /** Step-up re-authentication (AC-13): a TOTP code, or the password for users without MFA. */
  async stepUp(p: Principal, input: { code?: string | undefined; password?: string | undefined }): Promise<void> {
    const totp = await this.deps.mfa.totp(p.user.tenantId, p.user.id);
    if (totp?.confirmed_at) {
      await this.verifyTotpCode(p, input.code ?? '', 'step_up');
      return;
    }
    // A user with a passkey steps up with it (WebAuthn routes); the password alone is one factor only.
    if ((await this.deps.mfa.passkeyCount(p.user.tenantId, p.user.id)) > 0)
      throw new AppError('auth.mfa_invalid', 'step up with a passkey');
    await this.assertNotLocked(p);
    if (
      !input.password ||
      !p.user.passwordHash ||
      !(await verifyPassword(p.user.passwordHash, normalizePassword(input.password)))
    ) {
      await this.recordFailure(this.originOf(p), p.user.tenantId, p.user, p.settings, 'step_up_password_invalid');
      throw new AppError('auth.mfa_invalid');
    }
    await this.deps.database.transaction(async (trx) => {
      await this.deps.sessions.update(trx, p.user.tenantId, p.session.id, { mfa_at: this.now().toISOString() });
      await this.deps.audit.append(trx, p.actor, {
        action: 'auth.step_up',
        target: { type: 'user', id: p.user.id },
        details: { method: 'password' },
      });
    });
  }

  async logout(p: Principal, everywhere: boolean): Promise<number> {
    return this.deps.database.transaction(async (trx) => {
      const n = await this.deps.sessions.revoke(
        trx,
        p.user.tenantId,
        p.user.id,
        this.now().toISOString(),
        everywhere ? 'logout_all' : 'logout',
        everywhere ? {} : { sessionId: p.session.id },
      );
      await this.deps.audit.append(trx, p.actor, {
        action: everywhere ? 'auth.logged_out_everywhere' : 'auth.logged_out',
        target: { type: 'user', id: p.user.id },
        details: { sessionsEnded: n },
      });
      return n;
    });
  }

  async listSessions(p: Principal) {
    const rows = await this.deps.sessions.listActive(p.user.tenantId, p.user.id, this.now().toISOString());
    return rows
      .filter((s) => s.stage === 'full')
      .map((s) => ({
        id: s.id.slice(0, 16),
        current: s.id === p.session.id,
        zone: s.zone,
        ip: s.ip,
        userAgent: s.user_agent,
        createdAt: s.created_at,
        lastSeenAt: s.last_seen_at,
      }));
  }

  async revokeOwnSession(p: Principal, publicId: string): Promise<void> {
    const rows = await this.deps.sessions.listActive(p.user.tenantId, p.user.id, this.now().toISOString());
    const target = rows.find((s) => s.id.startsWith(publicId));
    if (!target) throw new AppError('route.not_found');
    await this.deps.database.transaction(async (trx) => {
      await this.deps.sessions.revoke(trx, p.user.tenantId, p.user.id, this.now().toISOString(), 'revoked_by_user', {
        sessionId: target.id,
      });
      await this.deps.audit.append(trx, p.actor, {
        action: 'session.revoked',
        target: { type: 'session', id: publicId },
        details: { by: 'user' },
      });
    });
  }

  async me(p: Principal) {
    const exp = p.user.passwordChangedAt ? passwordExpiresAt(new Date(p.user.passwordChangedAt), p.settings.password) : null;
    const now = this.now();
    const stepUpUntil = p.session.mfa_at
      ? new Date(Date.parse(p.session.mfa_at) + p.settings.session.stepUpMinutes * 60_000)
      : null;
    return {
      user: { id: p.user.id, loginId: p.user.loginId, displayName: p.user.displayName, email: p.user.email, role: p.user.role },
      tenant: { slug: p.tenant.slug, displayName: p.tenant.displayName },
      lastLogin: p.session.prev_login_at
        ? { at: p.session.prev_login_at, ip: p.session.prev_login_ip, zone: p.session.prev_login_zone }
        : null,
      failuresSinceLastLogin: Number(p.session.prev_failures ?? 0),
      // Told in-app at the first sign-in after an admin reset their MFA (mail comes with notifications).
      mfaResetSinceLastLogin:
        p.user.mfaResetAt !== null && (p.session.prev_login_at === null || p.user.mfaResetAt > p.session.prev_login_at),
      passwordExpiresAt: exp?.toISOString() ?? null,
      passwordExpiryWarning: exp !== null && exp.getTime() - now.getTime() <= p.settings.password.expiryWarningDays * 86_400_000,
      mfa: {
        passkeys: await this.deps.mfa.passkeyCount(p.user.tenantId, p.user.id),
        totp: Boolean((await this.deps.mfa.totp(p.user.tenantId, p.user.id))?.confirmed_at),
        recoveryCodesLeft: await this.deps.mfa.recoveryCodesLeft(p.user.tenantId, p.user.id),
      },
      session: {
        zone: p.session.zone,
        expiresAt:
          p.session.idle_expires_at < p.session.absolute_expires_at ? p.session.idle_expires_at : p.session.absolute_expires_at,
        stepUpValidUntil: stepUpUntil && stepUpUntil > now ? stepUpUntil.toISOString() : null,
      },
      csrfToken: p.session.csrf_token,
      loginBanner: p.settings.loginBanner,
      // The switches of the zone this session is on (AC-06): the UI hides what is off; the server refuses it anyway.
      features: p.settings.features[p.session.zone as Zone],
      maxLinkExpiryDays: p.settings.features.maxLinkExpiryDays,
      publicLinks: isFeatureEnabled(p.settings, 'internet', 'public_links'),
    };
  }

  originOf(p: Principal): RequestOrigin {
    return {
      zone: p.actor.zone!,
      ip: p.actor.ip ?? null,
      userAgent: p.actor.userAgent ?? null,
      requestId: p.actor.requestId ?? null,
    };
  }
}

function toNext(stage: SessionStage): NextStep {
  return stage === 'full' ? 'done' : stage;
}

const RC_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';
/** `xxxx-xxxx-xxxx` from an unambiguous alphabet: ~59 bits, stored as SHA-256 only. */
export function newRecoveryCode(): string {
  const bytes = randomBytes(12);
  const chars = [...bytes].map((b) => RC_ALPHABET[b % RC_ALPHABET.length]);
  return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8, 12).join('')}`;
}

export function normalizeRecoveryCode(raw: string): string | null {
  const c = raw.normalize('NFKC').trim().toLowerCase().replace(/\s+/g, '');
  const compact = c.replace(/-/g, '');
  if (!/^[a-z0-9]{12}$/.test(compact)) return null;
  return `${compact.slice(0, 4)}-${compact.slice(4, 8)}-${compact.slice(8, 12)}`;
}
