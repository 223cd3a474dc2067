/**
 * Point-in-time recovery of a folder (MAL-09, ransomware recovery): every file in the folder and its
 * subfolders goes back to the newest clean version it had at the chosen moment. Nothing is
 * destroyed: a file whose content changed since then gets a new version with the old bytes (the
 * encrypted blob is shared, not copied), a file created since then goes to the trash, and a file
 * trashed since then comes back. A dry run shows the plan first. Audited per file and for the folder.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';
import type { FileAccess } from './file-access.js';
import type { FileRepository, VersionRow } from './file.repository.js';
import type { FolderRepository } from './folder.repository.js';
import type { FolderService } from './folder.service.js';
import { nameKey } from './names.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { SANITIZE_JOB } from './file.service.js';
import { PII_JOB } from '../labels/label.service.js';

export const RECOVERY_MAX_FILES = 5000;

export interface RecoveryItem {
  fileId: string;
  name: string;
  /** revert: new version with the content at `at` · trash: created after `at` · untrash: trashed after `at` · none_clean: no clean version at `at`. */
  action: 'revert' | 'trash' | 'untrash' | 'untrash_revert' | 'none_clean';
  fromVersion: number | null;
  toVersion: number | null;
}

export interface RecoveryPlan {
  folderId: string;
  at: string;
  applied: boolean;
  items: RecoveryItem[];
}

export interface RecoveryServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  files: FileRepository;
  folders: FolderRepository;
  access: FileAccess;
  folderService: FolderService;
  jobs: JobQueue;
}

export class RecoveryService {
  constructor(private readonly deps: RecoveryServiceDeps) {}

  async restoreFolder(actor: Actor, folderId: string, at: string, dryRun: boolean): Promise<RecoveryPlan> {
    const { folder } = await this.deps.access.requireFolder(actor, folderId, 'manager');
    const now = this.deps.clock.now().toISOString();
    if (at > now) throw new AppError('request.invalid', 'the restore point is in the future');
    const tenantId = actor.tenantId;
    // Subfolders in the trash, and everything below them, stay as they are (breadth first: parents come first).
    const live = new Set([folderId]);
    for (const f of await this.deps.folders.descendants(tenantId, folderId))
      if (!f.deleted_at && f.parent_id !== null && live.has(f.parent_id)) live.add(f.id);
    const folderIds = [...live];
    const files = await this.deps.files.inFolders(tenantId, folderIds);
    if (files.length > RECOVERY_MAX_FILES)
      throw new AppError('request.too_large', `${files.length} files: restore subfolders one at a time`);
    const versions = new Map<string, VersionRow[]>();
    for (const v of await this.deps.files.versionsOf(
      tenantId,
      files.map((f) => f.id),
    )) {
      const list = versions.get(v.file_id) ?? [];
      list.push(v);
      versions.set(v.file_id, list);
    }
    const items: RecoveryItem[] = [];
    for (const f of files) {
      const vs = versions.get(f.id) ?? []; // newest first
      const newest = vs[0] ?? null;
      if (f.created_at > at) {
        if (!f.deleted_at)
          items.push({ fileId: f.id, name: f.name, action: 'trash', fromVersion: newest?.version ?? null, toVersion: null });
        continue;
      }
      const target = vs.find((v) => v.created_at <= at && v.state === 'available') ?? null;
      const trashedSince = f.deleted_at !== null && f.deleted_at > at;
      if (f.deleted_at && !trashedSince) continue; // already in the trash at that moment
      if (!target) {
        if (vs.some((v) => v.created_at <= at))
          items.push({ fileId: f.id, name: f.name, action: 'none_clean', fromVersion: newest?.version ?? null, toVersion: null });
        continue;
      }
      // Content, not version numbers: after a restore the newest version already holds the old bytes.
      const revert = newest !== null && newest.version !== target.version && newest.sha256 !== target.sha256;
      if (trashedSince)
        items.push({
          fileId: f.id,
          name: f.name,
          action: revert ? 'untrash_revert' : 'untrash',
          fromVersion: newest?.version ?? null,
          toVersion: target.version,
        });
      else if (revert)
        items.push({ fileId: f.id, name: f.name, action: 'revert', fromVersion: newest.version, toVersion: target.version });
    }
    if (dryRun) return { folderId, at, applied: false, items };

    await this.deps.database.transaction(async (trx) => {
      for (const item of items) {
        const f = files.find((x) => x.id === item.fileId)!;
        if (item.action === 'none_clean') continue;
        if (item.action === 'trash') {
          await this.deps.files.update(tenantId, f.id, { deleted_at: now, deleted_by: actor.id }, trx);
        } else {
          if (item.action === 'untrash' || item.action === 'untrash_revert') {
            const name = await this.deps.folderService.resolveName(tenantId, f.folder_id, f.name, 'keep_both', trx);
            await this.deps.files.update(
              tenantId,
              f.id,
              { deleted_at: null, deleted_by: null, name, name_key: nameKey(name), updated_at: now },
              trx,
            );
          }
          if (item.action === 'revert' || item.action === 'untrash_revert') {
            // Re-read inside the transaction: a rescan may have quarantined it, the retention purge changed its blob.
            const planned = versions.get(f.id)!.find((v) => v.version === item.toVersion)!;
            const target = await this.deps.files.findVersion(tenantId, planned.id, trx);
            if (!target || target.state !== 'available') throw new AppError('file.not_available', `${f.name} v${item.toVersion}`);
            const { id: _id, tenant_id: _t, version: _v, created_at: _c, uploaded_by: _u, ...content } = target;
            const newId = randomId();
            await this.deps.files.insertVersion(
              tenantId,
              {
                ...content,
                id: newId,
                version: await this.deps.files.nextVersion(tenantId, f.id, trx),
                uploaded_by: actor.id!,
                created_at: now,
              },
              trx,
            );
            await this.deps.files.update(tenantId, f.id, { updated_at: now }, trx);
            if (target.sanitize_state === 'pending')
              await this.deps.jobs.enqueue({ kind: SANITIZE_JOB, tenantId, payload: { versionId: newId }, maxAttempts: 5 }, trx);
            // PII-02: a check still running for the old version runs for the restored one too.
            if (target.pii_state === 'pending')
              await this.deps.jobs.enqueue({ kind: PII_JOB, tenantId, payload: { versionId: newId } }, trx);
          }
        }
        await this.deps.audit.append(trx, actor, {
          action: 'file.restored_to_point',
          target: { type: 'file', id: f.id },
          details: { at, action: item.action, fromVersion: item.fromVersion, toVersion: item.toVersion, folderId },
        });
      }
      const count = (a: RecoveryItem['action']) => items.filter((i) => i.action === a).length;
      await this.deps.audit.append(trx, actor, {
        action: 'folder.restored_to_point',
        target: { type: 'folder', id: folderId },
        details: {
          at,
          name: folder.name,
          reverted: count('revert') + count('untrash_revert'),
          trashed: count('trash'),
          untrashed: count('untrash') + count('untrash_revert'),
          noCleanVersion: count('none_clean'),
          files: files.length,
        },
      });
    });
    return { folderId, at, applied: true, items };
  }
}
