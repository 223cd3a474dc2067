/** Folders and their grants (AC-05, HR-04). Tenant id first in every method and every query (AC-08). */
import type { Executor } from '../db/database.js';
import type { FolderGrantsTable, FolderRole, FoldersTable } from '../db/schema.js';

export type FolderRow = FoldersTable;
export type GrantRow = FolderGrantsTable;

const FOLDER_COLUMNS = [
  'id',
  'tenant_id',
  'parent_id',
  'name',
  'name_key',
  'owner_id',
  'created_by',
  'created_at',
  'updated_at',
  'deleted_at',
  'deleted_by',
  'labels',
] as const;

/** Deepest folder nesting; also bounds every walk up the tree. */
export const MAX_FOLDER_DEPTH = 32;

export class FolderRepository {
  constructor(private readonly db: Executor) {}

  find(tenantId: string, id: string, exec: Executor = this.db): Promise<FolderRow | undefined> {
    return exec
      .selectFrom('folders')
      .select(FOLDER_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  /** The folder and its ancestors, nearest first (at most MAX_FOLDER_DEPTH + 1). */
  async path(tenantId: string, id: string, exec: Executor = this.db): Promise<FolderRow[]> {
    const out: FolderRow[] = [];
    let next: string | null = id;
    while (next && out.length <= MAX_FOLDER_DEPTH) {
      const row = await this.find(tenantId, next, exec);
      if (!row) break;
      out.push(row);
      next = row.parent_id;
    }
    return out;
  }

  children(tenantId: string, parentId: string, exec: Executor = this.db): Promise<FolderRow[]> {
    return exec
      .selectFrom('folders')
      .select(FOLDER_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('parent_id', '=', parentId)
      .where('deleted_at', 'is', null)
      .orderBy('name_key')
      .execute();
  }

  /** Every folder below `id` (any depth, trashed or not), breadth first. */
  async descendants(tenantId: string, id: string, exec: Executor = this.db): Promise<FolderRow[]> {
    const out: FolderRow[] = [];
    let frontier = [id];
    for (let depth = 0; frontier.length > 0 && depth <= MAX_FOLDER_DEPTH; depth++) {
      const rows = await exec
        .selectFrom('folders')
        .select(FOLDER_COLUMNS)
        .where('tenant_id', '=', tenantId)
        .where('parent_id', 'in', frontier)
        .execute();
      out.push(...rows);
      frontier = rows.map((r) => r.id);
    }
    return out;
  }

  nameTaken(tenantId: string, parentId: string | null, key: string, exec: Executor = this.db): Promise<boolean> {
    let q = exec
      .selectFrom('folders')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('name_key', '=', key)
      .where('deleted_at', 'is', null);
    q = parentId === null ? q.where('parent_id', 'is', null) : q.where('parent_id', '=', parentId);
    return q.executeTakeFirst().then(Boolean);
  }

  async topLevelNames(tenantId: string, ownerId: string, exec: Executor = this.db): Promise<Set<string>> {
    const rows = await exec
      .selectFrom('folders')
      .select('name_key')
      .where('tenant_id', '=', tenantId)
      .where('parent_id', 'is', null)
      .where('owner_id', '=', ownerId)
      .where('deleted_at', 'is', null)
      .execute();
    return new Set(rows.map((r) => r.name_key));
  }

  /** Live names in a folder (folders and files), for "keep both" renames. */
  async namesIn(tenantId: string, parentId: string, exec: Executor = this.db): Promise<Set<string>> {
    const [folders, files] = await Promise.all([
      exec
        .selectFrom('folders')
        .select('name_key')
        .where('tenant_id', '=', tenantId)
        .where('parent_id', '=', parentId)
        .where('deleted_at', 'is', null)
        .execute(),
      exec
        .selectFrom('files')
        .select('name_key')
        .where('tenant_id', '=', tenantId)
        .where('folder_id', '=', parentId)
        .where('deleted_at', 'is', null)
        .execute(),
    ]);
    return new Set([...folders, ...files].map((r) => r.name_key));
  }

  async insert(tenantId: string, row: Omit<FolderRow, 'tenant_id'>, exec: Executor): Promise<void> {
    await exec
      .insertInto('folders')
      .values({ ...row, tenant_id: tenantId })
      .execute();
  }

  async update(
    tenantId: string,
    id: string,
    patch: Partial<
      Pick<FolderRow, 'name' | 'name_key' | 'parent_id' | 'owner_id' | 'deleted_at' | 'deleted_by' | 'updated_at' | 'labels'>
    >,
    exec: Executor,
  ): Promise<void> {
    await exec.updateTable('folders').set(patch).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  async remove(tenantId: string, ids: string[], exec: Executor): Promise<void> {
    if (ids.length === 0) return;
    await exec.deleteFrom('folder_grants').where('tenant_id', '=', tenantId).where('folder_id', 'in', ids).execute();
    // Upload request links into a purged folder go with it (their events stay in the audit trail).
    const requests = exec
      .selectFrom('exchange_requests')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('folder_id', 'in', ids);
    await exec
      .deleteFrom('exchange_request_files')
      .where('tenant_id', '=', tenantId)
      .where('request_id', 'in', requests)
      .execute();
    await exec.deleteFrom('exchange_requests').where('tenant_id', '=', tenantId).where('folder_id', 'in', ids).execute();
    await exec.deleteFrom('folders').where('tenant_id', '=', tenantId).where('id', 'in', ids).execute();
  }

  ownedBy(tenantId: string, ownerId: string, exec: Executor = this.db): Promise<FolderRow[]> {
    return exec
      .selectFrom('folders')
      .select(FOLDER_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('owner_id', '=', ownerId)
      .where('deleted_at', 'is', null)
      .execute();
  }

  /** Folders owned by `ownerId`, or by any user who is no longer active (for owner re-assignment). */
  listForOwnership(tenantId: string, exec: Executor = this.db) {
    return exec
      .selectFrom('folders')
      .innerJoin('users', (j) => j.onRef('users.id', '=', 'folders.owner_id').onRef('users.tenant_id', '=', 'folders.tenant_id'))
      .select([
        'folders.id',
        'folders.name',
        'folders.parent_id',
        'folders.owner_id',
        'users.display_name as owner_name',
        'users.login_id as owner_login_id',
        'users.state as owner_state',
      ])
      .where('folders.tenant_id', '=', tenantId)
      .where('folders.deleted_at', 'is', null)
      .orderBy('folders.name_key')
      .limit(1000)
      .execute();
  }

  trashed(tenantId: string, exec: Executor = this.db): Promise<FolderRow[]> {
    return exec
      .selectFrom('folders')
      .select(FOLDER_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('deleted_at', 'is not', null)
      .orderBy('deleted_at', 'desc')
      .limit(500)
      .execute();
  }

  trashedBefore(tenantId: string, before: string, exec: Executor = this.db): Promise<FolderRow[]> {
    return exec
      .selectFrom('folders')
      .select(FOLDER_COLUMNS)
      .where('tenant_id', '=', tenantId)
      .where('deleted_at', '<', before)
      .execute();
  }

  // ---- grants ----

  grantsOn(tenantId: string, folderIds: string[], exec: Executor = this.db): Promise<GrantRow[]> {
    if (folderIds.length === 0) return Promise.resolve([]);
    return exec
      .selectFrom('folder_grants')
      .select(['id', 'tenant_id', 'folder_id', 'subject_type', 'subject_id', 'role', 'granted_by', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .where('folder_id', 'in', folderIds)
      .execute();
  }

  /** Folders where the user, or one of the groups, holds a grant, or which the user owns (live ones). */
  async reachableIds(tenantId: string, userId: string, groupIds: string[], exec: Executor = this.db): Promise<string[]> {
    const owned = await exec
      .selectFrom('folders')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('owner_id', '=', userId)
      .where('deleted_at', 'is', null)
      .execute();
    const granted = await exec
      .selectFrom('folder_grants')
      .select('folder_id as id')
      .where('tenant_id', '=', tenantId)
      .where((eb) =>
        eb.or([
          eb.and([eb('subject_type', '=', 'user'), eb('subject_id', '=', userId)]),
          ...(groupIds.length ? [eb.and([eb('subject_type', '=', 'group'), eb('subject_id', 'in', groupIds)])] : []),
        ]),
      )
      .execute();
    return [...new Set([...owned, ...granted].map((r) => r.id))];
  }

  async upsertGrant(
    tenantId: string,
    g: {
      id: string;
      folderId: string;
      subjectType: 'user' | 'group';
      subjectId: string;
      role: FolderRole;
      grantedBy: string;
      at: string;
    },
    exec: Executor,
  ): Promise<void> {
    await exec
      .insertInto('folder_grants')
      .values({
        id: g.id,
        tenant_id: tenantId,
        folder_id: g.folderId,
        subject_type: g.subjectType,
        subject_id: g.subjectId,
        role: g.role,
        granted_by: g.grantedBy,
        created_at: g.at,
      })
      .onConflict((oc) =>
        oc
          .columns(['tenant_id', 'folder_id', 'subject_type', 'subject_id'])
          .doUpdateSet({ role: g.role, granted_by: g.grantedBy }),
      )
      .execute();
  }

  async deleteGrant(tenantId: string, folderId: string, grantId: string, exec: Executor): Promise<GrantRow | undefined> {
    const row = await exec
      .selectFrom('folder_grants')
      .select(['id', 'tenant_id', 'folder_id', 'subject_type', 'subject_id', 'role', 'granted_by', 'created_at'])
      .where('tenant_id', '=', tenantId)
      .where('folder_id', '=', folderId)
      .where('id', '=', grantId)
      .executeTakeFirst();
    if (row) await exec.deleteFrom('folder_grants').where('tenant_id', '=', tenantId).where('id', '=', grantId).execute();
    return row;
  }

  // ---- groups (membership only; groups are administered by identity) ----

  async groupIdsOf(tenantId: string, userId: string, exec: Executor = this.db): Promise<string[]> {
    const rows = await exec
      .selectFrom('group_members')
      .select('group_id')
      .where('tenant_id', '=', tenantId)
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => r.group_id);
  }
}
