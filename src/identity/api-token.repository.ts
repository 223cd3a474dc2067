import type { Executor } from '../db/database.js';
import type { ApiTokensTable } from '../db/schema.js';

/** Personal API tokens (AC-15), hashed; tenant id first. */
export class ApiTokenRepository {
  constructor(private readonly db: Executor) {}

  async insert(trx: Executor, row: ApiTokensTable): Promise<void> {
    await trx.insertInto('api_tokens').values(row).execute();
  }

  /** By hash alone: the bearer token is all a request has before it is resolved. */
  async findByHash(hash: string): Promise<ApiTokensTable | undefined> {
    return this.db.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  async list(tenantId: string, userId?: string): Promise<ApiTokensTable[]> {
    let q = this.db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenantId);
    if (userId) q = q.where('user_id', '=', userId);
    return q.orderBy('created_at', 'desc').execute();
  }

  async find(tenantId: string, id: string, exec: Executor = this.db): Promise<ApiTokensTable | undefined> {
    return exec.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  async revoke(trx: Executor, tenantId: string, id: string, at: string): Promise<boolean> {
    const r = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /**
   * Revokes every live (unrevoked, unexpired) token of a user; returns how many. Called in the transaction of each
   * compromise response (password change or reset, MFA reset, suspension, deletion; AC-15, HR-07),
   * so a token never outlives the credentials it was created with.
   */
  async revokeAllForUser(trx: Executor, tenantId: string, userId: string, at: string): Promise<number> {
    const r = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: at })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .where('expires_at', '>', at)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  async markUsed(trx: Executor, tenantId: string, id: string, at: string, ip: string | null): Promise<void> {
    await trx
      .updateTable('api_tokens')
      .set({ last_used_at: at, last_used_ip: ip })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }
}
