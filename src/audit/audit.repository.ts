import type { Transaction } from 'kysely';
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
