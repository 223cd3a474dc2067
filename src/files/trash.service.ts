/**
 * The trash: what was deleted stays restorable for the tenant's trash period (default 30 days), then
 * the purge job removes it for good: rows, audit events, and the encrypted blobs no longer used by
 * any version. A manager may purge earlier.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { systemActor, type Actor, type TenantId } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { UserRepository } from '../identity/user.repository.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { BlobVault } from './blob-vault.js';
import type { FileAccess } from './file-access.js';
import type { FileRepository } from './file.repository.js';
import type { FolderRepository } from './folder.repository.js';

export interface TrashServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  folders: FolderRepository;
  files: FileRepository;
  access: FileAccess;
  vault: BlobVault;
  policy: TenantPolicyService;
  users: UserRepository;
}

export class TrashService {
  constructor(private readonly deps: TrashServiceDeps) {}

  /** Trashed items the caller could restore (editor on the place they were). */
  async list(actor: Actor) {
    const days = (await this.deps.policy.get(actor.tenantId)).files.trashDays;
    const purgeAfter = (deletedAt: string) => new Date(Date.parse(deletedAt) + days * 86_400_000).toISOString();
    const items = [];
    for (const f of await this.deps.folders.trashed(actor.tenantId)) {
      const access = await this.deps.access.folderRole(actor, f.id, { allowTrashed: true });
      if (!access || access.role === 'viewer') continue;
      const parent = access.path[1];
      items.push({
        kind: 'folder' as const,
        id: f.id,
        name: f.name,
        parent: parent ? { id: parent.id, name: parent.name } : null,
        deletedAt: f.deleted_at!,
        deletedBy: f.deleted_by,
        deletedByName: await this.userName(actor.tenantId, f.deleted_by),
        purgeAfter: purgeAfter(f.deleted_at!),
        size: null,
      });
    }
    const files = await this.deps.files.trashed(actor.tenantId);
    const versions = await this.deps.files.versionsOf(
      actor.tenantId,
      files.map((f) => f.id),
    );
    for (const f of files) {
      const access = await this.deps.access.folderRole(actor, f.folder_id);
      if (!access || access.role === 'viewer') continue;
      items.push({
        kind: 'file' as const,
        id: f.id,
        name: f.name,
        parent: { id: access.folder.id, name: access.folder.name },
        deletedAt: f.deleted_at!,
        deletedBy: f.deleted_by,
        deletedByName: await this.userName(actor.tenantId, f.deleted_by),
        purgeAfter: purgeAfter(f.deleted_at!),
        size: versions.find((v) => v.file_id === f.id)?.size ?? null,
      });
    }
    items.sort((a, b) => b.deletedAt.localeCompare(a.deletedAt));
    return { items, trashDays: days };
  }

  private async userName(tenantId: string, id: string | null): Promise<string | null> {
    if (!id) return null;
    return (await this.deps.users.findById(tenantId, id))?.displayName ?? null;
  }

  /** Purges one trashed item now (manager of the place it was). */
  async purge(actor: Actor, kind: 'file' | 'folder', id: string): Promise<void> {
    if (kind === 'file') {
      const f = await this.deps.access.requireFile(actor, id, 'manager', { allowTrashed: true });
      if (f.file.deleted_at === null) throw new AppError('file.not_found', 'not in the trash');
      return this.remove(actor, [], [id]);
    }
    const f = await this.deps.access.requireFolder(actor, id, 'manager', { allowTrashed: true });
    if (f.folder.deleted_at === null) throw new AppError('folder.not_found', 'not in the trash');
    return this.remove(actor, [id], []);
  }

  /** The daily job: purges what has been in the trash longer than the tenant's period. Returns how many items. */
  async purgeExpired(tenantId: TenantId): Promise<number> {
    const days = (await this.deps.policy.get(tenantId)).files.trashDays;
    const cutoff = new Date(this.deps.clock.now().getTime() - days * 86_400_000).toISOString();
    const folders = await this.deps.folders.trashedBefore(tenantId, cutoff);
    const files = await this.deps.files.trashedBefore(tenantId, cutoff);
    if (folders.length + files.length === 0) return 0;
    await this.remove(
      systemActor(tenantId, 'job:trash-purge'),
      folders.map((f) => f.id),
      files.map((f) => f.id),
    );
    return folders.length + files.length;
  }

  private async remove(actor: Actor, folderIds: string[], fileIds: string[]): Promise<void> {
    const tenantId = actor.tenantId;
    const orphaned = await this.deps.database.transaction(async (trx) => {
      const allFolders = [...folderIds];
      for (const id of folderIds) allFolders.push(...(await this.deps.folders.descendants(tenantId, id, trx)).map((f) => f.id));
      const filesInFolders = (await this.deps.files.inFolders(tenantId, allFolders, trx)).map((f) => f.id);
      const allFiles = [...new Set([...fileIds, ...filesInFolders])];
      const blobs = await this.deps.files.remove(tenantId, allFiles, trx);
      if (allFolders.length) {
        await trx.deleteFrom('upload_sessions').where('tenant_id', '=', tenantId).where('folder_id', 'in', allFolders).execute();
      }
      // Deepest folders first, so no row ever points at a removed parent.
      for (const id of [...allFolders].reverse()) await this.deps.folders.remove(tenantId, [id], trx);
      for (const id of folderIds) {
        await this.deps.audit.append(trx, actor, {
          action: 'folder.purged',
          target: { type: 'folder', id },
          details: { folders: allFolders.length, files: filesInFolders.length },
        });
      }
      for (const id of fileIds) await this.deps.audit.append(trx, actor, { action: 'file.purged', target: { type: 'file', id } });
      return blobs;
    });
    // After the commit: a crash here leaves an unreferenced ciphertext, never a row without its blob.
    for (const blobId of orphaned) await this.deps.vault.delete(tenantId, blobId).catch(() => {});
  }
}
