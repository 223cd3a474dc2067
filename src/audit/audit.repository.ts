import { sql, type Transaction } from 'kysely';
import type { Database, Executor } from '../db/database.js';
import type { AuditEventsTable, DB } from '../db/schema.js';

export type AuditRow = AuditEventsTable;

export interface AuditHead {
  seq: number;
  entryHash: string;
  frontier: string;
}

export interface CheckpointRow {
  tenant_id: string;
  no: number;
  size: number;
  root_hash: string;
  checkpointed_at: string;
  key_id: string;
  signature: string;
}

export interface AuditSearch {
  /** occurred_at ≥ from and < to (UTC ISO). */
  from?: string | undefined;
  to?: string | undefined;
  /** An action or a prefix of one (`file.`). */
  action?: string | undefined;
  outcome?: AuditRow['outcome'] | undefined;
  /** The actor's user id or login ID. */
  actor?: string | undefined;
  /** `actor` normalised as login IDs are stored (NFKC, lower case), so ＴＡＮＡＫＡ finds tanaka. */
  actorLogin?: string | undefined;
  target?: string | undefined;
  /** Only events with seq below / above this (paging). */
  before?: number | undefined;
  after?: number | undefined;
}

export type AuditSearchRow = AuditRow & { actor_login: string | null; actor_name: string | null };

/** Audit tables; tenant id first in every method (AC-08). Rows are only ever inserted. */
export class AuditRepository {
  constructor(private readonly database: Database) {}

  /** Reads and locks the tenant's chain head so concurrent appends serialise per tenant. */
  async lockHead(trx: Transaction<DB>, tenantId: string): Promise<AuditHead | undefined> {
    let q = trx.selectFrom('audit_heads').select(['seq', 'entry_hash', 'frontier']).where('tenant_id', '=', tenantId);
    if (this.database.dialect === 'postgres') q = q.forUpdate();
    const row = await q.executeTakeFirst();
    return row ? { seq: row.seq, entryHash: row.entry_hash, frontier: row.frontier } : undefined;
  }

  async createHead(trx: Executor, tenantId: string, head: AuditHead): Promise<void> {
    await trx
      .insertInto('audit_heads')
      .values({ tenant_id: tenantId, seq: head.seq, entry_hash: head.entryHash, frontier: head.frontier })
      .execute();
  }

  async insert(trx: Transaction<DB>, row: AuditRow, head: AuditHead): Promise<void> {
    await trx.insertInto('audit_events').values(row).execute();
    await trx
      .updateTable('audit_heads')
      .set({ seq: head.seq, entry_hash: head.entryHash, frontier: head.frontier })
      .where('tenant_id', '=', row.tenant_id)
      .execute();
  }

  async head(tenantId: string, exec: Executor = this.database.db): Promise<AuditHead | undefined> {
    const row = await exec
      .selectFrom('audit_heads')
      .select(['seq', 'entry_hash', 'frontier'])
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return row ? { seq: row.seq, entryHash: row.entry_hash, frontier: row.frontier } : undefined;
  }

  /** Streams a tenant's events in `seq` order, a page at a time (memory stays flat). */
  async *events(tenantId: string, pageSize = 1000): AsyncGenerator<AuditRow> {
    let after = 0;
    for (;;) {
      const page = await this.database.db
        .selectFrom('audit_events')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(pageSize)
        .execute();
      for (const row of page) yield row;
      if (page.length < pageSize) return;
      after = page[page.length - 1]!.seq;
    }
  }

  /**
   * A page of a tenant's events, newest first, below `before` (a seq), with the acting user's login
   * and name when the actor is a user of this tenant (LOG-04).
   */
  async search(tenantId: string, f: AuditSearch, limit: number, order: 'asc' | 'desc' = 'desc'): Promise<AuditSearchRow[]> {
    let q = this.database.db
      .selectFrom('audit_events as e')
      .leftJoin('users as u', (j) => j.onRef('u.id', '=', 'e.actor_id').onRef('u.tenant_id', '=', 'e.tenant_id'))
      .selectAll('e')
      .select(['u.login_id as actor_login', 'u.display_name as actor_name'])
      .where('e.tenant_id', '=', tenantId);
    if (f.from) q = q.where('e.occurred_at', '>=', f.from);
    if (f.to) q = q.where('e.occurred_at', '<', f.to);
    // A prefix: `file.` finds every file event. substr, not LIKE: nothing in the prefix is a wildcard.
    if (f.action) q = q.where(sql<string>`substr(e.action, 1, ${f.action.length})`, '=', f.action);
    if (f.outcome) q = q.where('e.outcome', '=', f.outcome);
    if (f.actor) {
      // The login is looked up first, so the search runs on the (tenant, actor) index alone.
      const user = await this.database.db
        .selectFrom('users')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('login_id', '=', f.actorLogin ?? f.actor)
        .executeTakeFirst();
      q = q.where('e.actor_id', 'in', user ? [f.actor, user.id] : [f.actor]);
    }
    if (f.target) q = q.where('e.target_id', '=', f.target);
    if (f.before !== undefined) q = q.where('e.seq', '<', f.before);
    if (f.after !== undefined) q = q.where('e.seq', '>', f.after);
    return q.orderBy('e.seq', order).limit(limit).execute();
  }

  async latestEvents(tenantId: string, limit: number): Promise<AuditRow[]> {
    return this.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('seq', 'desc')
      .limit(limit)
      .execute();
  }

  async countByAction(tenantId: string, action: string): Promise<number> {
    const r = await this.database.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('action', '=', action)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async checkpoints(tenantId: string): Promise<CheckpointRow[]> {
    return this.database.db
      .selectFrom('audit_checkpoints')
      .select(['tenant_id', 'no', 'size', 'root_hash', 'checkpointed_at', 'key_id', 'signature'])
      .where('tenant_id', '=', tenantId)
      .orderBy('no')
      .execute();
  }

  async lastCheckpoint(tenantId: string, exec: Executor = this.database.db): Promise<CheckpointRow | undefined> {
    return exec
      .selectFrom('audit_checkpoints')
      .select(['tenant_id', 'no', 'size', 'root_hash', 'checkpointed_at', 'key_id', 'signature'])
      .where('tenant_id', '=', tenantId)
      .orderBy('no', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  async insertCheckpoint(trx: Executor, row: CheckpointRow): Promise<void> {
    await trx.insertInto('audit_checkpoints').values(row).execute();
  }
}
