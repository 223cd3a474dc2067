/** Resumable upload sessions (tus). Tenant id first in every method and query (AC-08). */
import type { Executor } from '../db/database.js';
import type { UploadSessionsTable } from '../db/schema.js';

export type UploadRow = UploadSessionsTable;

const COLUMNS = [
  'id',
  'tenant_id',
  'user_id',
  'folder_id',
  'file_id',
  'name',
  'content_type',
  'on_conflict',
  'length',
  'offset',
  'blob_id',
  'kek_version',
  'wrapped_dek',
  'zone',
  'state',
  'result_file_id',
  'exchange_request_id',
  'created_at',
  'updated_at',
  'expires_at',
] as const;

const out = (r: UploadRow): UploadRow => ({
  ...r,
  length: Number(r.length),
  offset: Number(r.offset),
  wrapped_dek: Buffer.from(r.wrapped_dek),
});

export class UploadRepository {
  constructor(private readonly db: Executor) {}

  async find(tenantId: string, id: string, exec: Executor = this.db): Promise<UploadRow | undefined> {
    const row = await exec
      .selectFrom('upload_sessions')
      .select(COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && out(row);
  }

  /** Open sessions whose data key is wrapped under a KEK older than `version`. */
  async openWithKekBelow(tenantId: string, version: number, exec: Executor = this.db): Promise<UploadRow[]> {
    const rows = await exec
      .selectFrom('upload_sessions')
      .select(COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'open')
      .where('kek_version', '<', version)
      .execute();
    return rows.map(out);
  }

  /** Replaces the wrapped key only while it is still under `fromVersion`. */
  async rewrapKey(
    trx: Executor,
    tenantId: string,
    id: string,
    fromVersion: number,
    wrapped: { kekVersion: number; wrappedDek: Buffer },
  ): Promise<void> {
    await trx
      .updateTable('upload_sessions')
      .set({ kek_version: wrapped.kekVersion, wrapped_dek: wrapped.wrappedDek })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('kek_version', '=', fromVersion)
      .execute();
  }

  async insert(tenantId: string, row: Omit<UploadRow, 'tenant_id'>, exec: Executor = this.db): Promise<void> {
    await exec
      .insertInto('upload_sessions')
      .values({ ...row, tenant_id: tenantId })
      .execute();
  }

  /** Advances the durable offset, only from the offset the caller saw (a concurrent PATCH loses). */
  async advance(
    tenantId: string,
    id: string,
    from: number,
    to: number,
    at: string,
    expiresAt: string,
    exec: Executor = this.db,
  ): Promise<boolean> {
    const res = await exec
      .updateTable('upload_sessions')
      .set({ offset: to, updated_at: at, expires_at: expiresAt })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('offset', '=', from)
      .where('state', '=', 'open')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /**
   * Marks the session completed. With `fromOpen`, only a session still open (not expired and
   * collected, not finished by another request); returns whether it was.
   */
  async complete(
    tenantId: string,
    id: string,
    fileId: string,
    at: string,
    exec: Executor,
    opts: { fromOpen?: boolean } = {},
  ): Promise<boolean> {
    let q = exec
      .updateTable('upload_sessions')
      .set({ state: 'completed', result_file_id: fileId, offset: (eb) => eb.ref('length'), updated_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id);
    if (opts.fromOpen) q = q.where('state', '=', 'open');
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async remove(tenantId: string, id: string, exec: Executor = this.db): Promise<void> {
    await exec.deleteFrom('upload_sessions').where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  /**
   * The cleanup job's delete: only if the session is still what the job listed (open and expired,
   * or completed long ago), so a PATCH that extended or finished it meanwhile keeps it.
   */
  async removeIfStale(tenantId: string, row: UploadRow, now: string, completedBefore: string, exec: Executor): Promise<boolean> {
    let q = exec.deleteFrom('upload_sessions').where('tenant_id', '=', tenantId).where('id', '=', row.id);
    q =
      row.state === 'open'
        ? q.where('state', '=', 'open').where('expires_at', '<', now)
        : q.where('state', '=', 'completed').where('updated_at', '<', completedBefore);
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** Bytes promised to open sessions (they count against the quotas until they finish or expire). */
  async reservedBytes(tenantId: string, userId?: string, exec: Executor = this.db): Promise<number> {
    let q = exec
      .selectFrom('upload_sessions')
      .select((eb) => eb.fn.sum<string | number>('length').as('n'))
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'open');
    if (userId) q = q.where('user_id', '=', userId);
    const row = await q.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Sessions past their expiry (open) or finished long ago (completed), across tenants (the cleanup job). */
  async expired(now: string, completedBefore: string, limit: number, exec: Executor = this.db): Promise<UploadRow[]> {
    const rows = await exec
      .selectFrom('upload_sessions')
      .select(COLUMNS)
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'open'), eb('expires_at', '<', now)]),
          eb.and([eb('state', '=', 'completed'), eb('updated_at', '<', completedBefore)]),
        ]),
      )
      .limit(limit)
      .execute();
    return rows.map(out);
  }

  async openIds(exec: Executor = this.db): Promise<Set<string>> {
    const rows = await exec.selectFrom('upload_sessions').select('id').where('state', '=', 'open').execute();
    return new Set(rows.map((r) => r.id));
  }
}
