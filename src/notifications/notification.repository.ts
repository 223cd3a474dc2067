/** In-app notices (MAL-03): one row per recipient; tenant first in every query. */
import type { Kysely, Transaction } from 'kysely';
import { randomId } from '../crypto/primitives.js';
import type { DB, NotificationsTable } from '../db/schema.js';

type Executor = Kysely<DB> | Transaction<DB>;
export type NotificationRow = NotificationsTable;

export class NotificationRepository {
  constructor(private readonly db: Kysely<DB>) {}

  /** One notice per distinct recipient, in the caller's transaction. */
  async add(
    trx: Executor,
    tenantId: string,
    userIds: Array<string | null | undefined>,
    kind: string,
    params: Record<string, unknown>,
    at: string,
  ): Promise<void> {
    const ids = [...new Set(userIds.filter((u): u is string => Boolean(u)))];
    if (!ids.length) return;
    await trx
      .insertInto('notifications')
      .values(
        ids.map((user_id) => ({
          id: randomId(),
          tenant_id: tenantId,
          user_id,
          kind,
          params: JSON.stringify(params),
          created_at: at,
          read_at: null,
        })),
      )
      .execute();
  }

  list(tenantId: string, userId: string, limit = 50, exec: Executor = this.db): Promise<NotificationRow[]> {
    return exec
      .selectFrom('notifications')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }

  async markRead(tenantId: string, userId: string, ids: string[] | 'all', at: string, exec: Executor = this.db): Promise<number> {
    let q = exec
      .updateTable('notifications')
      .set({ read_at: at })
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .where('read_at', 'is', null);
    if (ids !== 'all') {
      if (!ids.length) return 0;
      q = q.where('id', 'in', ids);
    }
    const r = await q.executeTakeFirst();
    return Number(r.numUpdatedRows);
  }
}
