/** Files, their versions and the blobs behind them. Tenant id first in every method and query (AC-08). */
import type { Executor } from '../db/database.js';
import type { BlobsTable, FilesTable, FileVersionsTable, VersionState } from '../db/schema.js';

export type FileRow = FilesTable;
export type VersionRow = FileVersionsTable;
export type BlobRow = BlobsTable;

const FILE_COLUMNS = [
  'id',
  'tenant_id',
  'folder_id',
  'name',
  'name_key',
  'created_by',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted_by',
  'labels',
] as const;
const VERSION_COLUMNS = [
  'id',
  'tenant_id',
  'file_id',
  'version',
  'blob_id',
  'size',
  'sha256',
  'content_type',
  'state',
  'scan_engine',
  'scan_engine_version',
  'scan_result',
  'scan_signature',
  'scan_attempts',
  'scanned_at',
  'origin_zone',
  'uploaded_by',
  'created_at',
  'detected_type',
  'hold_reason',
  'sanitize_state',
  'sanitized_blob_id',
  'sanitized_size',
  'sanitized_sha256',
  'sanitized_content_type',
  'sanitized_name',
  'sanitize_report',
  'sanitized_at',
  'released_by',
  'released_at',
  'release_reason',
  'pii_state',
  'pii_hits',
  'pii_checked_at',
] as const;
const BLOB_COLUMNS = [
  'id',
  'tenant_id',
  'kek_version',
  'wrapped_dek',
  'plain_size',
  'cipher_size',
  'sha256',
  'created_at',
  'verified_at',
  'damaged_at',
  'damage',
] as const;

/** PostgreSQL returns bigint columns as strings. */
const versionOut = (r: VersionRow): VersionRow => ({
  ...r,
  size: Number(r.size),
  sanitized_size: r.sanitized_size === null ? null : Number(r.sanitized_size),
});
const blobOut = (r: BlobRow): BlobRow => ({
  ...r,
  plain_size: Number(r.plain_size),
  cipher_size: Number(r.cipher_size),
  wrapped_dek: Buffer.from(r.wrapped_dek),
});

export class FileRepository {
  constructor(private readonly db: Executor) {}

  find(tenantId: string, id: string, exec: Executor = this.db): Promise<FileRow | undefined> {
    return exec
      .selectFrom('files')
      .select(FILE_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  inFolder(tenantId: string, folderId: string, exec: Executor = this.db): Promise<FileRow[]> {
    return exec
      .selectFrom('files')
      .select(FILE_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('folder_id', '=', folderId)
      .where('deleted_at', 'is', null)
      .orderBy('name_key')
      .limit(5000)
      .execute();
  }

  inFolders(tenantId: string, folderIds: string[], exec: Executor = this.db): Promise<FileRow[]> {
    if (folderIds.length === 0) return Promise.resolve([]);
    return exec
      .selectFrom('files')
      .select(FILE_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('folder_id', 'in', folderIds)
      .execute();
  }

  nameTaken(tenantId: string, folderId: string, key: string, exec: Executor = this.db): Promise<boolean> {
    return exec
      .selectFrom('files')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('folder_id', '=', folderId)
      .where('name_key', '=', key)
      .where('deleted_at', 'is', null)
      .executeTakeFirst()
      .then(Boolean);
  }

  async insert(tenantId: string, row: Omit<FileRow, 'tenant_id'>, exec: Executor): Promise<void> {
    await exec
      .insertInto('files')
      .values({ ...row, tenant_id: tenantId })
      .execute();
  }

  async update(
    tenantId: string,
    id: string,
    patch: Partial<Pick<FileRow, 'name' | 'name_key' | 'folder_id' | 'deleted_at' | 'deleted_by' | 'updated_at' | 'labels'>>,
    exec: Executor,
  ): Promise<void> {
    await exec.updateTable('files').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  trashed(tenantId: string, exec: Executor = this.db): Promise<FileRow[]> {
    return exec
      .selectFrom('files')
      .select(FILE_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('deleted_at', 'is not', null)
      .orderBy('deleted_at', 'desc')
      .limit(500)
      .execute();
  }

  trashedBefore(tenantId: string, before: string, exec: Executor = this.db): Promise<FileRow[]> {
    return exec
      .selectFrom('files')
      .select(FILE_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('deleted_at', '<', before)
      .execute();
  }

  /** Deletes files and their versions; returns the blob ids no longer referenced by any version. */
  async remove(tenantId: string, fileIds: string[], exec: Executor): Promise<string[]> {
    if (fileIds.length === 0) return [];
    // A version holds its blob and, once sanitised, the sanitised blob (MAL-07).
    const blobIds = (
      await exec
        .selectFrom('file_versions')
        .select(['blob_id', 'sanitized_blob_id'])
        .where('tenant_id', '=', tenantId)
        .where('file_id', 'in', fileIds)
        .execute()
    ).flatMap((r) => (r.sanitized_blob_id ? [r.blob_id, r.sanitized_blob_id] : [r.blob_id]));
    const versionIds = exec
      .selectFrom('file_versions')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('file_id', 'in', fileIds);
    await exec.deleteFrom('malware_approvals').where('tenant_id', '=', tenantId).where('version_id', 'in', versionIds).execute();
    // What was sent out or received through the exchange keeps its name and SHA-256 in the audit
    // trail; its link to a purged file goes (the exchange rows would otherwise block the purge).
    await exec.deleteFrom('exchange_share_files').where('tenant_id', '=', tenantId).where('file_id', 'in', fileIds).execute();
    await exec.deleteFrom('exchange_request_files').where('tenant_id', '=', tenantId).where('file_id', 'in', fileIds).execute();
    await exec.deleteFrom('file_versions').where('tenant_id', '=', tenantId).where('file_id', 'in', fileIds).execute();
    await exec.deleteFrom('files').where('tenant_id', '=', tenantId).where('id', 'in', fileIds).execute();
    return this.dropUnused(tenantId, blobIds, exec);
  }

  /** Deletes one version (not the file); returns the blobs nothing uses any more. */
  async removeVersion(tenantId: string, versionId: string, exec: Executor): Promise<string[]> {
    const v = await exec
      .selectFrom('file_versions')
      .select(['blob_id', 'sanitized_blob_id'])
      .where('tenant_id', '=', tenantId)
      .where('id', '=', versionId)
      .executeTakeFirst();
    if (!v) return [];
    await exec.deleteFrom('malware_approvals').where('tenant_id', '=', tenantId).where('version_id', '=', versionId).execute();
    await exec.deleteFrom('exchange_share_files').where('tenant_id', '=', tenantId).where('version_id', '=', versionId).execute();
    await exec.deleteFrom('file_versions').where('tenant_id', '=', tenantId).where('id', '=', versionId).execute();
    return this.dropUnused(tenantId, v.sanitized_blob_id ? [v.blob_id, v.sanitized_blob_id] : [v.blob_id], exec);
  }

  /** Deletes the rows of those blobs no version uses any more (as original or sanitised); returns their ids. */
  async dropUnused(tenantId: string, blobIds: string[], exec: Executor): Promise<string[]> {
    const unique = [...new Set(blobIds)];
    if (unique.length === 0) return [];
    const still = new Set(
      (
        await exec
          .selectFrom('file_versions')
          .select(['blob_id', 'sanitized_blob_id'])
          .where('tenant_id', '=', tenantId)
          .where((eb) => eb.or([eb('blob_id', 'in', unique), eb('sanitized_blob_id', 'in', unique)]))
          .execute()
      ).flatMap((r) => [r.blob_id, r.sanitized_blob_id]),
    );
    const orphaned = unique.filter((b) => !still.has(b));
    if (orphaned.length) await exec.deleteFrom('blobs').where('tenant_id', '=', tenantId).where('id', 'in', orphaned).execute();
    return orphaned;
  }

  // ---- versions ----

  async versions(tenantId: string, fileId: string, exec: Executor = this.db): Promise<VersionRow[]> {
    const rows = await exec
      .selectFrom('file_versions')
      .select(VERSION_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('file_id', '=', fileId)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(versionOut);
  }

  /** Every version of the given files, newest first per file. */
  async versionsOf(tenantId: string, fileIds: string[], exec: Executor = this.db): Promise<VersionRow[]> {
    if (fileIds.length === 0) return [];
    const rows = await exec
      .selectFrom('file_versions')
      .select(VERSION_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('file_id', 'in', fileIds)
      .orderBy('version', 'desc')
      .execute();
    return rows.map(versionOut);
  }

  async findVersion(tenantId: string, versionId: string, exec: Executor = this.db): Promise<VersionRow | undefined> {
    const row = await exec
      .selectFrom('file_versions')
      .select(VERSION_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', versionId)
      .executeTakeFirst();
    return row && versionOut(row);
  }

  async nextVersion(tenantId: string, fileId: string, exec: Executor): Promise<number> {
    const row = await exec
      .selectFrom('file_versions')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('tenant_id', '=', tenantId)
      .where('file_id', '=', fileId)
      .executeTakeFirst();
    return Number(row?.v ?? 0) + 1;
  }

  async insertVersion(tenantId: string, row: Omit<VersionRow, 'tenant_id'>, exec: Executor): Promise<void> {
    await exec
      .insertInto('file_versions')
      .values({ ...row, tenant_id: tenantId })
      .execute();
  }

  async updateVersion(
    tenantId: string,
    id: string,
    patch: Partial<Omit<VersionRow, 'id' | 'tenant_id' | 'file_id' | 'version' | 'uploaded_by' | 'created_at'>>,
    exec: Executor,
    onlyIfState?: VersionState,
  ): Promise<boolean> {
    let q = exec.updateTable('file_versions').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id);
    if (onlyIfState) q = q.where('state', '=', onlyIfState);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Sanitised internet-origin versions sanitised before `before` that still keep their original (MAL-07 retention). */
  async sanitisedOriginalsBefore(
    tenantId: string,
    before: string,
    limit: number,
    exec: Executor = this.db,
  ): Promise<VersionRow[]> {
    const rows = await exec
      .selectFrom('file_versions')
      .select(VERSION_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'available')
      .where('sanitize_state', 'in', ['sanitised', 'sanitised_with_loss'])
      .where('sanitized_blob_id', 'is not', null)
      .where('sanitized_at', '<', before)
      .whereRef('blob_id', '!=', 'sanitized_blob_id')
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map(versionOut);
  }

  /** Sets 無害化 pending on an available version that has no result yet; false if someone else did. */
  async markSanitizePending(tenantId: string, versionId: string, exec: Executor): Promise<boolean> {
    const r = await exec
      .updateTable('file_versions')
      .set({ sanitize_state: 'pending' })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', versionId)
      .where('state', '=', 'available')
      .where('sanitize_state', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Records a 無害化 result only while the version is still pending; false if another run finished first. */
  async finishSanitize(
    tenantId: string,
    versionId: string,
    patch: Partial<Omit<VersionRow, 'id' | 'tenant_id' | 'file_id' | 'version' | 'uploaded_by' | 'created_at'>>,
    exec: Executor,
  ): Promise<boolean> {
    const r = await exec
      .updateTable('file_versions')
      .set(patch)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', versionId)
      .where('sanitize_state', '=', 'pending')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** Versions waiting for their first scan, across tenants (the scan backlog metric). */
  async countAwaitingScan(exec: Executor = this.db): Promise<number> {
    const r = await exec
      .selectFrom('file_versions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', '=', 'held')
      .where('hold_reason', 'is', null)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async versionsWithState(tenantId: string, state: VersionState, limit: number, exec: Executor = this.db): Promise<VersionRow[]> {
    const rows = await exec
      .selectFrom('file_versions')
      .select(VERSION_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('state', '=', state)
      .orderBy('created_at')
      .limit(limit)
      .execute();
    return rows.map(versionOut);
  }

  /** Every version that uses the blob, as its original or as its sanitised rebuild (MAL-07). */
  async versionsUsingBlob(tenantId: string, blobId: string, exec: Executor = this.db): Promise<VersionRow[]> {
    const rows = await exec
      .selectFrom('file_versions')
      .select(VERSION_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where((eb) => eb.or([eb('blob_id', '=', blobId), eb('sanitized_blob_id', '=', blobId)]))
      .execute();
    return rows.map(versionOut);
  }

  /** Bytes counted against the quotas: every stored version (trash included) of the tenant, or of one uploader. */
  async usedBytes(tenantId: string, uploaderId?: string, exec: Executor = this.db): Promise<number> {
    let q = exec
      .selectFrom('file_versions')
      .select((eb) => eb.fn.sum<string | number>('size').as('n'))
      .where('tenant_id', '=', tenantId);
    if (uploaderId) q = q.where('uploaded_by', '=', uploaderId);
    const row = await q.executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  // ---- blobs ----

  async insertIntent(tenantId: string, blobId: string, at: string, exec: Executor = this.db): Promise<void> {
    await exec.insertInto('blob_intents').values({ id: blobId, tenant_id: tenantId, created_at: at }).execute();
  }

  async deleteIntent(tenantId: string, blobId: string, exec: Executor = this.db): Promise<void> {
    await exec.deleteFrom('blob_intents').where('tenant_id', '=', tenantId).where('id', '=', blobId).execute();
  }

  /** A tenant's unfinished blob writes (intents) recorded before `before`. */
  async countIntentsBefore(tenantId: string, before: string, exec: Executor = this.db): Promise<number> {
    const row = await exec
      .selectFrom('blob_intents')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('created_at', '<', before)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  /** Intents older than `before` across tenants (the cleanup job), with whether their blob row exists. */
  async staleIntents(before: string, limit: number, exec: Executor = this.db) {
    return exec
      .selectFrom('blob_intents')
      .leftJoin('blobs', 'blobs.id', 'blob_intents.id')
      .select(['blob_intents.id', 'blob_intents.tenant_id', 'blobs.id as blob_row'])
      .where('blob_intents.created_at', '<', before)
      .limit(limit)
      .execute();
  }

  async insertBlob(tenantId: string, row: Omit<BlobRow, 'tenant_id'>, exec: Executor): Promise<void> {
    await exec
      .insertInto('blobs')
      .values({ ...row, tenant_id: tenantId })
      .execute();
  }

  async findBlob(tenantId: string, id: string, exec: Executor = this.db): Promise<BlobRow | undefined> {
    const row = await exec
      .selectFrom('blobs')
      .select(BLOB_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row && blobOut(row);
  }

  /** Blobs under an older KEK, by id after `afterId` (a keyset: a blob that fails is passed, not fetched again). */
  async blobsWithKekBelow(
    tenantId: string,
    version: number,
    limit: number,
    afterId = '',
    exec: Executor = this.db,
  ): Promise<BlobRow[]> {
    const rows = await exec
      .selectFrom('blobs')
      .select(BLOB_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('kek_version', '<', version)
      .where('id', '>', afterId)
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(blobOut);
  }

  async countBlobsWithKekBelow(tenantId: string, version: number, exec: Executor = this.db): Promise<number> {
    const row = await exec
      .selectFrom('blobs')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('kek_version', '<', version)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async rewrapBlob(
    tenantId: string,
    id: string,
    fromVersion: number,
    kekVersion: number,
    wrappedDek: Buffer,
    exec: Executor,
  ): Promise<void> {
    await exec
      .updateTable('blobs')
      .set({ kek_version: kekVersion, wrapped_dek: wrappedDek })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('kek_version', '=', fromVersion)
      .execute();
  }

  /** Blobs least recently verified first (never verified before any verified). */
  async blobsToScrub(limit: number, exec: Executor = this.db): Promise<BlobRow[]> {
    const rows = await exec
      .selectFrom('blobs')
      .select(BLOB_COLUMNS)
      .where('damaged_at', 'is', null)
      .orderBy('verified_at', (ob) => ob.asc().nullsFirst())
      .orderBy('created_at', 'asc')
      .limit(limit)
      .execute();
    return rows.map(blobOut);
  }

  async markBlob(
    tenantId: string,
    id: string,
    patch: Partial<Pick<BlobRow, 'verified_at' | 'damaged_at' | 'damage'>>,
    exec: Executor,
  ): Promise<void> {
    await exec.updateTable('blobs').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }
}
