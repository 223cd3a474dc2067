import type { Executor } from '../db/database.js';
import type { SessionsTable } from '../db/schema.js';

/** Server-side sessions (AC-13); the id is the SHA-256 of the cookie token. */
export class SessionRepository {
  constructor(private readonly db: Executor) {}

  async insert(trx: Executor, row: SessionsTable): Promise<void> {
    await trx.insertInto('sessions').values(row).execute();
  }

  /** Looks a session up by token hash alone: the cookie is the only thing a request has before it. */
  async findByHash(id: string, exec: Executor = this.db): Promise<SessionsTable | undefined> {
    return exec.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async touch(tenantId: string, id: string, lastSeen: string, idleExpires: string): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ last_seen_at: lastSeen, idle_expires_at: idleExpires })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async update(
    trx: Executor,
    tenantId: string,
    id: string,
    set: Partial<
      Pick<
        SessionsTable,
        'stage' | 'mfa_at' | 'prev_login_at' | 'prev_login_ip' | 'prev_login_zone' | 'prev_failures' | 'webauthn_challenge'
      >
    >,
  ): Promise<void> {
    await trx.updateTable('sessions').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  async listActive(tenantId: string, userId: string, now: string, exec: Executor = this.db): Promise<SessionsTable[]> {
    return exec
      .selectFrom('sessions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('idle_expires_at', '>', now)
      .where('absolute_expires_at', '>', now)
      .orderBy('last_seen_at', 'desc')
      .execute();
  }

  /** Revokes one session, or all of a user's sessions (optionally all but one); returns how many. */
  async revoke(
    trx: Executor,
    tenantId: string,
    userId: string,
    at: string,
    reason: string,
    opts: { sessionId?: string; exceptId?: string } = {},
  ): Promise<number> {
    let q = trx
      .updateTable('sessions')
      .set({ revoked_at: at, revoked_reason: reason })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null);
    if (opts.sessionId) q = q.where('id', '=', opts.sessionId);
    if (opts.exceptId) q = q.where('id', '!=', opts.exceptId);
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
