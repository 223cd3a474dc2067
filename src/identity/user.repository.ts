import type { Executor } from '../db/database.js';
import type { UsersTable, UserState } from '../db/schema.js';
import type { Role } from '../tenants/tenant-settings.js';
import { randomId } from '../crypto/primitives.js';

/** Key prefix of a link request held for approval; a real link's key is a SHA-256 hex and never has it. */
const HELD_LINK_PREFIX = 'held:';

export interface User {
  id: string;
  tenantId: string;
  loginId: string;
  displayName: string;
  email: string | null;
  role: Role;
  state: UserState;
  passwordHash: string | null;
  passwordChangedAt: string | null;
  mustChangePassword: boolean;
  failedAttempts: number;
  lockedUntil: string | null;
  lastLoginAt: string | null;
  lastLoginIp: string | null;
  lastLoginZone: string | null;
  failuresSinceLogin: number;
  termsVersion: number;
  mfaResetAt: string | null;
  createdBy: string | null;
  approvedBy: string | null;
  createdAt: string;
}

function toUser(r: UsersTable): User {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    loginId: r.login_id,
    displayName: r.display_name,
    email: r.email,
    role: r.role as Role,
    state: r.state,
    passwordHash: r.password_hash,
    passwordChangedAt: r.password_changed_at,
    mustChangePassword: Number(r.must_change_password) === 1,
    failedAttempts: Number(r.failed_attempts),
    lockedUntil: r.locked_until,
    lastLoginAt: r.last_login_at,
    lastLoginIp: r.last_login_ip,
    lastLoginZone: r.last_login_zone,
    failuresSinceLogin: Number(r.failures_since_login),
    termsVersion: Number(r.terms_version),
    mfaResetAt: r.mfa_reset_at,
    createdBy: r.created_by,
    approvedBy: r.approved_by,
    createdAt: r.created_at,
  };
}

export type UserUpdate = Partial<Omit<UsersTable, 'id' | 'tenant_id' | 'login_id' | 'created_at'>>;

/** Users, their password history and setup links; tenant id first everywhere (AC-08). */
export class UserRepository {
  constructor(private readonly db: Executor) {}

  async insert(trx: Executor, row: UsersTable): Promise<void> {
    await trx.insertInto('users').values(row).execute();
  }

  async findById(tenantId: string, userId: string, exec: Executor = this.db): Promise<User | undefined> {
    const r = await exec
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .executeTakeFirst();
    return r ? toUser(r) : undefined;
  }

  /** Includes deleted (tombstoned) users: their login IDs stay taken (AC-02). */
  async findByLogin(tenantId: string, loginId: string, exec: Executor = this.db): Promise<User | undefined> {
    const r = await exec
      .selectFrom('users')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('login_id', '=', loginId)
      .executeTakeFirst();
    return r ? toUser(r) : undefined;
  }

  async list(tenantId: string, exec: Executor = this.db): Promise<User[]> {
    const rows = await exec.selectFrom('users').selectAll().where('tenant_id', '=', tenantId).orderBy('login_id').execute();
    return rows.map(toUser);
  }

  async update(trx: Executor, tenantId: string, userId: string, set: UserUpdate): Promise<void> {
    await trx.updateTable('users').set(set).where('tenant_id', '=', tenantId).where('id', '=', userId).execute();
  }

  /**
   * Counts one more failed credential check in a single statement (parallel guesses each count);
   * returns the new number of consecutive failures.
   */
  async countFailure(trx: Executor, tenantId: string, userId: string, at: string): Promise<number> {
    const row = await trx
      .updateTable('users')
      .set((eb) => ({
        failed_attempts: eb('failed_attempts', '+', 1),
        failures_since_login: eb('failures_since_login', '+', 1),
        updated_at: at,
      }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', userId)
      .returning('failed_attempts')
      .executeTakeFirstOrThrow();
    return Number(row.failed_attempts);
  }

  /** E-mail addresses of active users among `ids` (for notices by mail). */
  async activeEmails(tenantId: string, ids: string[], exec: Executor = this.db): Promise<string[]> {
    if (!ids.length) return [];
    const rows = await exec
      .selectFrom('users')
      .select('email')
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', [...new Set(ids)])
      .where('state', '=', 'active')
      .where('email', 'is not', null)
      .execute();
    return rows.map((r) => r.email!);
  }

  async activeAdminIds(tenantId: string, exec: Executor = this.db): Promise<string[]> {
    const rows = await exec
      .selectFrom('users')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('role', '=', 'tenant_admin')
      .where('state', '=', 'active')
      .execute();
    return rows.map((r) => r.id);
  }

  async countActiveAdmins(tenantId: string, exec: Executor = this.db): Promise<number> {
    const r = await exec
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('role', '=', 'tenant_admin')
      .where('state', '=', 'active')
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async addHistory(trx: Executor, tenantId: string, userId: string, passwordHash: string, at: string): Promise<void> {
    await trx
      .insertInto('password_history')
      .values({ tenant_id: tenantId, user_id: userId, password_hash: passwordHash, created_at: at })
      .execute();
  }

  async recentHistory(tenantId: string, userId: string, limit: number, exec: Executor = this.db): Promise<string[]> {
    if (limit <= 0) return [];
    const rows = await exec
      .selectFrom('password_history')
      .select('password_hash')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => r.password_hash);
  }

  async insertSetupToken(
    trx: Executor,
    row: {
      token_hash: string;
      tenant_id: string;
      user_id: string;
      purpose: 'setup' | 'reset';
      expires_at: string;
      created_at: string;
    },
  ): Promise<void> {
    // A new link replaces any unused earlier one for the same user.
    await trx
      .updateTable('setup_tokens')
      .set({ used_at: row.created_at })
      .where('tenant_id', '=', row.tenant_id)
      .where('user_id', '=', row.user_id)
      .where('used_at', 'is', null)
      .execute();
    await trx
      .insertInto('setup_tokens')
      .values({ ...row, used_at: null })
      .execute();
  }

  async findSetupToken(tokenHash: string, exec: Executor = this.db) {
    return exec
      .selectFrom('setup_tokens')
      .selectAll()
      .where('token_hash', '=', tokenHash)
      .where('token_hash', 'not like', `${HELD_LINK_PREFIX}%`)
      .executeTakeFirst();
  }

  /**
   * Records a setup or reset link held for a second admin's approval (two-person rule, AC-01): a
   * `setup_tokens` row whose key is no token's hash but `held:<requesting admin>:<random>`, so no
   * link exists until the approval issues one. Like a new link it replaces any unused earlier one.
   */
  async holdSetupLink(
    trx: Executor,
    row: {
      tenant_id: string;
      user_id: string;
      requested_by: string;
      purpose: 'setup' | 'reset';
      expires_at: string;
      created_at: string;
    },
  ): Promise<void> {
    const { requested_by, ...rest } = row;
    await this.insertSetupToken(trx, { ...rest, token_hash: `${HELD_LINK_PREFIX}${requested_by}:${randomId()}` });
  }

  /** The unexpired link request waiting for approval for this user, with the admin who asked for it. */
  async heldSetupLink(
    tenantId: string,
    userId: string,
    now: string,
    exec: Executor = this.db,
  ): Promise<{ key: string; requestedBy: string; expiresAt: string } | undefined> {
    const row = await exec
      .selectFrom('setup_tokens')
      .select(['token_hash', 'expires_at'])
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('token_hash', 'like', `${HELD_LINK_PREFIX}%`)
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    if (!row) return undefined;
    const requestedBy = row.token_hash.slice(HELD_LINK_PREFIX.length).split(':')[0]!;
    return { key: row.token_hash, requestedBy, expiresAt: row.expires_at };
  }

  /** Marks a setup link used; false if it was already used (a concurrent second use loses). */
  async consumeSetupToken(trx: Executor, tenantId: string, tokenHash: string, at: string): Promise<boolean> {
    const r = await trx
      .updateTable('setup_tokens')
      .set({ used_at: at })
      .where('tenant_id', '=', tenantId)
      .where('token_hash', '=', tokenHash)
      .where('used_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
