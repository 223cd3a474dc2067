/**
 * User lifecycle (AC-01, AC-02, AC-05): requested → active → suspended → deleted (tombstoned; the
 * login ID is never reused). With the tenant's two-person rule, a user created by one admin stays
 * `requested` until another admin approves, and a setup or reset link for another tenant admin is
 * held until another admin approves it (the approver receives it, as for a registration), so no
 * single admin can take over a second admin account. Every transition is audited with actor and
 * approver. Every compromise response (suspension, deletion, MFA reset, a demanded password
 * change) ends the user's sessions and API tokens in the same transaction (AC-15, HR-07).
 */
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { SYSTEM_TENANT_ID, type Actor } from '../core/types.js';
import { randomId, randomToken, sha256Hex } from '../crypto/primitives.js';
import type { Database, Executor } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { Role } from '../tenants/tenant-settings.js';
import type { ApiTokenRepository } from './api-token.repository.js';
import { LoginId } from './identity.schemas.js';
import type { MfaRepository } from './mfa.repository.js';
import type { SessionRepository } from './session.repository.js';
import { SETUP_LINK_TTL_MS } from './setup-link.js';
import type { User, UserRepository } from './user.repository.js';

export interface UserAdminServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  users: UserRepository;
  mfa: MfaRepository;
  sessions: SessionRepository;
  /** API tokens, revoked with the sessions (AC-15, HR-07). */
  tokens: ApiTokenRepository;
  policy: TenantPolicyService;
  /**
   * Runs in the transaction that suspends or deletes a user: hands their responsibilities (folders
   * they own, HR-04) to `reassignTo`, or refuses when there is no heir and the change is not automatic.
   */
  departure?: DepartureHook;
}

export type DepartureHook = (
  trx: Transaction<DB>,
  actor: Actor,
  userId: string,
  opts: { reassignTo?: string | undefined; automatic: boolean },
) => Promise<void>;

export interface UserSummary extends User {
  locked: boolean;
  mfaEnrolled: boolean;
  /** The admin whose request for a setup/reset link waits for another admin's approval (AC-01). */
  linkRequestedBy: string | null;
}

export interface CreateUserInput {
  loginId: string;
  displayName: string;
  email?: string | undefined;
  role: Role;
}

export class UserAdminService {
  private readonly tokens: ApiTokenRepository;

  constructor(private readonly deps: UserAdminServiceDeps) {
    this.tokens = deps.tokens;
  }

  /** Runs `fn` in the caller's transaction when there is one (a query outside it would wait forever on SQLite). */
  private inTransaction<T>(trx: Transaction<DB> | undefined, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return trx ? fn(trx) : this.deps.database.transaction(fn);
  }

  /** Ends every session and API token of the user (a compromise response, HR-07); returns the counts for the audit event. */
  private async endAccess(
    trx: Transaction<DB>,
    tenantId: string,
    userId: string,
    at: string,
    reason: string,
  ): Promise<{ sessionsEnded: number; tokensRevoked: number }> {
    return {
      sessionsEnded: await this.deps.sessions.revoke(trx, tenantId, userId, at, reason),
      tokensRevoked: await this.tokens.revokeAllForUser(trx, tenantId, userId, at),
    };
  }

  private nowIso(): string {
    return this.deps.clock.now().toISOString();
  }

  async list(actor: Actor): Promise<UserSummary[]> {
    const users = await this.deps.users.list(actor.tenantId);
    return Promise.all(users.map((u) => this.summary(u)));
  }

  /** Inside a transaction pass it as `exec`: on SQLite a query outside the open transaction would wait for it forever. */
  private async summary(u: User, exec?: Executor): Promise<UserSummary> {
    const held = u.state === 'active' ? await this.deps.users.heldSetupLink(u.tenantId, u.id, this.nowIso(), exec) : undefined;
    return {
      ...u,
      locked: u.lockedUntil !== null && u.lockedUntil > this.nowIso(),
      mfaEnrolled:
        Boolean((await this.deps.mfa.totp(u.tenantId, u.id, exec))?.confirmed_at) ||
        (await this.deps.mfa.passkeyCount(u.tenantId, u.id, exec)) > 0,
      linkRequestedBy: held?.requestedBy ?? null,
    };
  }

  private async require(tenantId: string, userId: string, trx: Transaction<DB>): Promise<User> {
    const u = await this.deps.users.findById(tenantId, userId, trx);
    if (!u) throw new AppError('user.not_found');
    return u;
  }

  /**
   * Creates a user. Without the two-person rule (or when `preApproved`, used by the operator CLI)
   * the user is active at once and a 72-hour setup link is returned; otherwise it waits for approval.
   */
  async create(
    actor: Actor,
    input: CreateUserInput,
    opts: { preApproved?: boolean } = {},
  ): Promise<{ user: UserSummary; setupToken: string | null }> {
    const settings = await this.deps.policy.get(actor.tenantId);
    const loginId = LoginId.parse(input.loginId);
    // Operators exist only in the system tenant, and only operators exist there (AC-07).
    if ((actor.tenantId === SYSTEM_TENANT_ID) !== (input.role === 'operator')) throw new AppError('user.invalid_role');
    const needsApproval = settings.twoPersonRule && !opts.preApproved;
    return this.deps.database.transaction(async (trx) => {
      if (await this.deps.users.findByLogin(actor.tenantId, loginId, trx)) throw new AppError('user.login_taken', loginId);
      const now = this.nowIso();
      const id = randomId();
      await this.deps.users.insert(trx, {
        id,
        tenant_id: actor.tenantId,
        login_id: loginId,
        display_name: input.displayName,
        email: input.email ?? null,
        role: input.role,
        state: needsApproval ? 'requested' : 'active',
        password_hash: null,
        password_changed_at: null,
        must_change_password: 0,
        failed_attempts: 0,
        locked_until: null,
        last_login_at: null,
        last_login_ip: null,
        last_login_zone: null,
        failures_since_login: 0,
        mfa_reset_at: null,
        terms_version: 0,
        terms_accepted_at: null,
        created_by: actor.id,
        approved_by: needsApproval ? null : actor.id,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      });
      await this.deps.audit.append(trx, actor, {
        action: needsApproval ? 'user.requested' : 'user.created',
        target: { type: 'user', id },
        details: { loginId, role: input.role, twoPersonRule: settings.twoPersonRule },
      });
      const setupToken = needsApproval ? null : await this.issueSetupLink(trx, actor, actor.tenantId, id, 'setup');
      return { user: await this.summary((await this.deps.users.findById(actor.tenantId, id, trx))!, trx), setupToken };
    });
  }

  private async issueSetupLink(
    trx: Transaction<DB>,
    actor: Actor,
    tenantId: string,
    userId: string,
    purpose: 'setup' | 'reset',
  ): Promise<string> {
    const token = randomToken(32);
    const now = this.deps.clock.now();
    await this.deps.users.insertSetupToken(trx, {
      token_hash: sha256Hex(token),
      tenant_id: tenantId,
      user_id: userId,
      purpose,
      expires_at: new Date(now.getTime() + SETUP_LINK_TTL_MS).toISOString(),
      created_at: now.toISOString(),
    });
    await this.deps.audit.append(trx, actor, {
      action: 'user.setup_link_issued',
      target: { type: 'user', id: userId },
      details: { purpose, validHours: SETUP_LINK_TTL_MS / 3_600_000 },
    });
    return token;
  }

  /**
   * Second admin's approval under the two-person rule (AC-01), never by the requester: of a
   * requested user, or of a link held for an active admin (see `reissueSetupLink`). Either way the
   * approver receives the setup link.
   */
  async approve(actor: Actor, userId: string): Promise<{ user: UserSummary; setupToken: string }> {
    return this.deps.database.transaction(async (trx) => {
      const u = await this.require(actor.tenantId, userId, trx);
      if (u.state === 'active') return this.approveHeldLink(trx, actor, u);
      if (u.state !== 'requested') throw new AppError('user.invalid_state');
      if (u.createdBy === actor.id) throw new AppError('user.self_approval');
      await this.deps.users.update(trx, actor.tenantId, userId, {
        state: 'active',
        approved_by: actor.id,
        updated_at: this.nowIso(),
      });
      await this.deps.audit.append(trx, actor, {
        action: 'user.approved',
        target: { type: 'user', id: userId },
        details: { requestedBy: u.createdBy, approvedBy: actor.id },
      });
      const setupToken = await this.issueSetupLink(trx, actor, actor.tenantId, userId, 'setup');
      return { user: await this.summary((await this.deps.users.findById(actor.tenantId, userId, trx))!, trx), setupToken };
    });
  }

  private async approveHeldLink(trx: Transaction<DB>, actor: Actor, u: User): Promise<{ user: UserSummary; setupToken: string }> {
    const now = this.nowIso();
    const held = await this.deps.users.heldSetupLink(actor.tenantId, u.id, now, trx);
    if (!held) throw new AppError('user.invalid_state');
    if (held.requestedBy === actor.id) throw new AppError('user.self_approval');
    if (!(await this.deps.users.consumeSetupToken(trx, actor.tenantId, held.key, now))) throw new AppError('user.invalid_state');
    const purpose = u.passwordHash ? 'reset' : 'setup';
    await this.deps.audit.append(trx, actor, {
      action: 'user.setup_link_approved',
      target: { type: 'user', id: u.id },
      details: { purpose, requestedBy: held.requestedBy, approvedBy: actor.id },
    });
    const setupToken = await this.issueSetupLink(trx, actor, actor.tenantId, u.id, purpose);
    return { user: await this.summary(u, trx), setupToken };
  }

  async reject(actor: Actor, userId: string): Promise<UserSummary> {
    return this.transition(actor, userId, ['requested'], 'deleted', 'user.rejected');
  }

  /** Suspends an active user; inside `trx` when given (an access-review decision records itself with it). */
  async suspend(actor: Actor, userId: string, reassignTo?: string, trx?: Transaction<DB>): Promise<UserSummary> {
    return this.transition(actor, userId, ['active'], 'suspended', 'user.suspended', reassignTo, trx);
  }

  async reactivate(actor: Actor, userId: string): Promise<UserSummary> {
    return this.transition(actor, userId, ['suspended'], 'active', 'user.reactivated');
  }

  /** Deletion keeps a tombstone (AC-02): the row and login ID stay, credentials and sessions go. */
  async remove(actor: Actor, userId: string, reassignTo?: string): Promise<UserSummary> {
    return this.transition(actor, userId, ['requested', 'active', 'suspended'], 'deleted', 'user.deleted', reassignTo);
  }

  private async transition(
    actor: Actor,
    userId: string,
    from: User['state'][],
    to: User['state'],
    action: string,
    reassignTo?: string,
    outer?: Transaction<DB>,
  ): Promise<UserSummary> {
    return this.inTransaction(outer, async (trx) => {
      const u = await this.require(actor.tenantId, userId, trx);
      if (!from.includes(u.state)) throw new AppError('user.invalid_state');
      if (
        to !== 'active' &&
        u.role === 'tenant_admin' &&
        u.state === 'active' &&
        (await this.deps.users.countActiveAdmins(actor.tenantId, trx)) <= 1
      ) {
        throw new AppError('user.last_admin');
      }
      const now = this.nowIso();
      await this.deps.users.update(trx, actor.tenantId, userId, {
        state: to,
        updated_at: now,
        ...(to === 'deleted' ? { deleted_at: now, password_hash: null, email: null } : {}),
      });
      if (to !== 'active' && this.deps.departure) {
        await this.deps.departure(trx, actor, userId, { reassignTo, automatic: actor.type === 'system' });
      }
      // Reactivation brings back neither sessions nor API tokens: they ended for good (HR-07).
      const ended = to !== 'active' ? await this.endAccess(trx, actor.tenantId, userId, now, action) : null;
      if (to === 'deleted') {
        await this.deps.mfa.deleteTotp(trx, actor.tenantId, userId);
        await this.deps.mfa.deleteAllPasskeys(trx, actor.tenantId, userId);
        await this.deps.mfa.replaceRecoveryCodes(trx, actor.tenantId, userId, [], now);
      }
      await this.deps.audit.append(trx, actor, {
        action,
        target: { type: 'user', id: userId },
        details: { from: u.state, to, sessionsEnded: ended?.sessionsEnded ?? 0, tokensRevoked: ended?.tokensRevoked ?? 0 },
      });
      return this.summary((await this.deps.users.findById(actor.tenantId, userId, trx))!, trx);
    });
  }

  async unlock(actor: Actor, userId: string): Promise<UserSummary> {
    return this.deps.database.transaction(async (trx) => {
      const u = await this.require(actor.tenantId, userId, trx);
      await this.deps.users.update(trx, actor.tenantId, userId, {
        failed_attempts: 0,
        locked_until: null,
        updated_at: this.nowIso(),
      });
      await this.deps.audit.append(trx, actor, {
        action: 'user.unlocked',
        target: { type: 'user', id: userId },
        details: { failedAttempts: u.failedAttempts },
      });
      return this.summary((await this.deps.users.findById(actor.tenantId, userId, trx))!, trx);
    });
  }

  /** Removes the user's TOTP and recovery codes and ends their sessions and API tokens; they enrol again at next sign-in. */
  async resetMfa(actor: Actor, userId: string): Promise<UserSummary> {
    return this.deps.database.transaction(async (trx) => {
      const u = await this.require(actor.tenantId, userId, trx);
      if (u.state === 'deleted') throw new AppError('user.invalid_state');
      const now = this.nowIso();
      await this.deps.mfa.deleteTotp(trx, actor.tenantId, userId);
      await this.deps.mfa.deleteAllPasskeys(trx, actor.tenantId, userId);
      await this.deps.mfa.replaceRecoveryCodes(trx, actor.tenantId, userId, [], now);
      await this.deps.users.update(trx, actor.tenantId, userId, { mfa_reset_at: now, updated_at: now });
      const ended = await this.endAccess(trx, actor.tenantId, userId, now, 'mfa_reset');
      await this.deps.audit.append(trx, actor, {
        action: 'auth.mfa_reset',
        target: { type: 'user', id: userId },
        details: ended,
      });
      return this.summary((await this.deps.users.findById(actor.tenantId, userId, trx))!, trx);
    });
  }

  /** Forces a password change at the next sign-in (suspected compromise, AC-17) and ends sessions and API tokens. */
  async requirePasswordChange(actor: Actor, userId: string): Promise<UserSummary> {
    return this.deps.database.transaction(async (trx) => {
      const u = await this.require(actor.tenantId, userId, trx);
      if (u.state !== 'active') throw new AppError('user.invalid_state');
      const now = this.nowIso();
      await this.deps.users.update(trx, actor.tenantId, userId, { must_change_password: 1, updated_at: now });
      const ended = await this.endAccess(trx, actor.tenantId, userId, now, 'password_change_required');
      await this.deps.audit.append(trx, actor, {
        action: 'user.password_change_required',
        target: { type: 'user', id: userId },
        details: ended,
      });
      return this.summary((await this.deps.users.findById(actor.tenantId, userId, trx))!, trx);
    });
  }

  /**
   * A new one-time link replacing the password (admin-assisted reset); earlier links stop working.
   * Under the two-person rule a link for another tenant admin is not handed to the admin who asks:
   * the request is held (`setupToken` null) until a different admin approves it and receives the
   * link (AC-01). Otherwise one admin could reset a second admin's MFA, take their reset link and
   * become them, and so approve their own requests.
   */
  async reissueSetupLink(actor: Actor, userId: string): Promise<{ user: UserSummary; setupToken: string | null }> {
    const settings = await this.deps.policy.get(actor.tenantId);
    return this.deps.database.transaction(async (trx) => {
      const u = await this.require(actor.tenantId, userId, trx);
      if (u.state !== 'active') throw new AppError('user.invalid_state');
      const purpose = u.passwordHash ? 'reset' : 'setup';
      if (settings.twoPersonRule && u.role === 'tenant_admin' && u.id !== actor.id) {
        const now = this.deps.clock.now();
        await this.deps.users.holdSetupLink(trx, {
          tenant_id: actor.tenantId,
          user_id: userId,
          requested_by: actor.id ?? actor.type,
          purpose,
          expires_at: new Date(now.getTime() + SETUP_LINK_TTL_MS).toISOString(),
          created_at: now.toISOString(),
        });
        await this.deps.audit.append(trx, actor, {
          action: 'user.setup_link_requested',
          target: { type: 'user', id: userId },
          details: { purpose, twoPersonRule: true },
        });
        return { user: await this.summary(u, trx), setupToken: null };
      }
      const setupToken = await this.issueSetupLink(trx, actor, actor.tenantId, userId, purpose);
      return { user: await this.summary(u, trx), setupToken };
    });
  }

  async revokeSessions(actor: Actor, userId: string): Promise<number> {
    return this.deps.database.transaction(async (trx) => {
      await this.require(actor.tenantId, userId, trx);
      const n = await this.deps.sessions.revoke(trx, actor.tenantId, userId, this.nowIso(), 'revoked_by_admin');
      await this.deps.audit.append(trx, actor, {
        action: 'session.revoked',
        target: { type: 'user', id: userId },
        details: { by: 'admin', sessionsEnded: n },
      });
      return n;
    });
  }

  /** Active accounts without a sign-in for the tenant's inactivity period (AC-03); never-used accounts count from creation. */
  async inactive(tenantId: string): Promise<UserSummary[]> {
    const settings = await this.deps.policy.get(tenantId);
    const cutoff = new Date(this.deps.clock.now().getTime() - settings.inactivity.days * 86_400_000).toISOString();
    const users = (await this.deps.users.list(tenantId)).filter(
      (u) => u.state === 'active' && (u.lastLoginAt ?? u.createdAt) < cutoff,
    );
    return Promise.all(users.map((u) => this.summary(u)));
  }

  /** The daily job: suspends inactive accounts of tenants that switched auto-suspend on; returns how many. */
  async suspendInactive(tenantId: string): Promise<number> {
    const settings = await this.deps.policy.get(tenantId);
    if (!settings.inactivity.autoSuspend) return 0;
    let n = 0;
    for (const u of await this.inactive(tenantId)) {
      const actor = { type: 'system' as const, id: 'job:inactive-accounts', tenantId: tenantId as Actor['tenantId'] };
      try {
        await this.transition(actor, u.id, ['active'], 'suspended', 'user.suspended_inactive');
        n++;
      } catch (err) {
        // The last active admin stays active (it is reported instead); anything else is a real failure.
        if (!(err instanceof AppError && err.code === 'user.last_admin')) throw err;
      }
    }
    return n;
  }
}
