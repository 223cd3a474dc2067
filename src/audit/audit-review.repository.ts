/** Periodic audit-log reviews (LOG-05) and the aggregate queries their summaries are made of; tenant id first. */
import { sql } from 'kysely';
import type { Database, Executor } from '../db/database.js';
import type { AuditReviewsTable } from '../db/schema.js';

export type AuditReviewRow = AuditReviewsTable;

export class AuditReviewRepository {
  constructor(private readonly database: Database) {}

  async insert(trx: Executor, row: AuditReviewRow): Promise<void> {
    await trx.insertInto('audit_reviews').values(row).execute();
  }

  list(tenantId: string, limit = 52): Promise<AuditReviewRow[]> {
    return this.database.db
      .selectFrom('audit_reviews')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('period_to', 'desc')
      .limit(limit)
      .execute();
  }

  find(tenantId: string, id: string, exec: Executor = this.database.db): Promise<AuditReviewRow | undefined> {
    return exec.selectFrom('audit_reviews').selectAll().where('tenant_id', '=', tenantId).where('id', '=', id).executeTakeFirst();
  }

  /** Signs off an open review; false when it was not open (already signed off). */
  async signOff(trx: Executor, tenantId: string, id: string, by: string, at: string, findings: string): Promise<boolean> {
    const r = await trx
      .updateTable('audit_reviews')
      .set({ state: 'signed_off', signed_off_by: by, signed_off_at: at, findings })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  /** Events in [from, to) by outcome. */
  async countByOutcome(tenantId: string, from: string, to: string): Promise<Record<string, number>> {
    const rows = await this.inPeriod(tenantId, from, to)
      .select(['outcome', (eb) => eb.fn.countAll<string | number>().as('n')])
      .groupBy('outcome')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.outcome, Number(r.n)]));
  }

  /** "氏名（login）" of this tenant's users by id, for the summary. */
  async names(tenantId: string, ids: string[]): Promise<Map<string, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.database.db
      .selectFrom('users')
      .select(['id', 'login_id', 'display_name'])
      .where('tenant_id', '=', tenantId)
      .where('id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.id, `${r.display_name}（${r.login_id}）`]));
  }

  /** Events of one action in [from, to). */
  async count(tenantId: string, from: string, to: string, action: string): Promise<number> {
    const r = await this.inPeriod(tenantId, from, to)
      .where('action', '=', action)
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  /** Counts of events grouped by a column, for the actions given (or an action prefix), at least `min` each. */
  async heavy(
    tenantId: string,
    from: string,
    to: string,
    by: 'ip' | 'actor_id',
    actions: { in?: string[]; prefix?: string },
    min: number,
  ): Promise<Array<{ key: string | null; n: number }>> {
    let q = this.inPeriod(tenantId, from, to);
    if (actions.in) q = q.where('action', 'in', actions.in);
    if (actions.prefix) q = q.where(sql<string>`substr(action, 1, ${actions.prefix.length})`, '=', actions.prefix);
    const rows = await q
      .select([by, (eb) => eb.fn.countAll<string | number>().as('n')])
      .groupBy(by)
      .having((eb) => eb.fn.countAll(), '>=', min)
      .orderBy('n', 'desc')
      .limit(10)
      .execute();
    return rows.map((r) => ({ key: (r as Record<string, unknown>)[by] as string | null, n: Number(r.n) }));
  }

  /** Administrative events by users (settings, accounts, tokens, permissions) in the period, oldest first. */
  adminEvents(tenantId: string, from: string, to: string, prefixes: string[], limit = 5000) {
    return this.inPeriod(tenantId, from, to)
      .where('actor_type', '=', 'user')
      .where((eb) => eb.or(prefixes.map((p) => eb(sql<string>`substr(action, 1, ${p.length})`, '=', p))))
      .select(['occurred_at', 'action', 'actor_id'])
      .orderBy('seq')
      .limit(limit)
      .execute();
  }

  private inPeriod(tenantId: string, from: string, to: string) {
    return this.database.db
      .selectFrom('audit_events')
      .where('tenant_id', '=', tenantId)
      .where('occurred_at', '>=', from)
      .where('occurred_at', '<', to);
  }
}
