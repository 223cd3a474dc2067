import type { Executor } from '../db/database.js';
import type { AccessReviewItemsTable, AccessReviewsTable } from '../db/schema.js';

/** Access reviews and their items (AC-04); tenant id first. */
export class AccessReviewRepository {
  constructor(private readonly db: Executor) {}

  async insert(trx: Executor, review: AccessReviewsTable, items: AccessReviewItemsTable[]): Promise<void> {
    await trx.insertInto('access_reviews').values(review).execute();
    for (let i = 0; i < items.length; i += 200)
      await trx
        .insertInto('access_review_items')
        .values(items.slice(i, i + 200))
        .execute();
  }

  async list(tenantId: string): Promise<AccessReviewsTable[]> {
    return this.db
      .selectFrom('access_reviews')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('started_at', 'desc')
      .execute();
  }

  async find(tenantId: string, id: string, exec: Executor = this.db): Promise<AccessReviewsTable | undefined> {
    return exec
      .selectFrom('access_reviews')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  async open(tenantId: string, exec: Executor = this.db): Promise<AccessReviewsTable | undefined> {
    return exec
      .selectFrom('access_reviews')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'open')
      .executeTakeFirst();
  }

  async lastSignedOff(tenantId: string, exec: Executor = this.db): Promise<AccessReviewsTable | undefined> {
    return exec
      .selectFrom('access_reviews')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'signed_off')
      .orderBy('signed_off_at', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async items(tenantId: string, reviewId: string, exec: Executor = this.db): Promise<AccessReviewItemsTable[]> {
    return exec
      .selectFrom('access_review_items')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('review_id', '=', reviewId)
      .orderBy('login_id')
      .execute();
  }

  async decide(
    trx: Executor,
    tenantId: string,
    reviewId: string,
    userId: string,
    set: Pick<AccessReviewItemsTable, 'decision' | 'decided_by' | 'decided_at' | 'note'>,
  ): Promise<boolean> {
    const r = await trx
      .updateTable('access_review_items')
      .set(set)
      .where('tenant_id', '=', tenantId)
      .where('review_id', '=', reviewId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async signOff(trx: Executor, tenantId: string, reviewId: string, by: string, at: string, findings: string): Promise<boolean> {
    const r = await trx
      .updateTable('access_reviews')
      .set({ state: 'signed_off', signed_off_by: by, signed_off_at: at, findings })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', reviewId)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
}
