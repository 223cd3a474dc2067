/**
 * Resolves what a user may do with a folder or file (AC-05) and hides everything else (AC-08):
 * another tenant's id, a folder in the trash, or a folder the user has no role on all answer
 * `*.not_found`, so nobody learns that an object exists. A role too low for the action on a folder
 * the user can see answers `folder.forbidden`.
 */
import { AppError } from '../core/errors.js';
import { userIdOf, type Actor } from '../core/types.js';
import type { Executor } from '../db/database.js';
import type { FolderRole } from '../db/schema.js';
import { atLeast, effectiveRole } from './access.js';
import type { FileRepository, FileRow } from './file.repository.js';
import type { FolderRepository, FolderRow } from './folder.repository.js';

export interface FolderAccess {
  folder: FolderRow;
  /** The folder first, then its ancestors. */
  path: FolderRow[];
  /** The part of `path` the user may see (a folder shared deep in someone's tree hides the folders above it). */
  visiblePath: FolderRow[];
  role: FolderRole;
}

export interface FileAccessResult extends FolderAccess {
  file: FileRow;
}

export interface FileAccessDeps {
  folders: FolderRepository;
  files: FileRepository;
}

export class FileAccess {
  constructor(private readonly deps: FileAccessDeps) {}

  /** The user's effective role on a live folder, or null when it is missing, trashed or not theirs. */
  async folderRole(
    actor: Actor,
    folderId: string,
    opts: { allowTrashed?: boolean } = {},
    exec?: Executor,
  ): Promise<FolderAccess | null> {
    const path = await this.deps.folders.path(actor.tenantId, folderId, exec);
    if (path.length === 0) return null;
    // The top of the chain must be a top-level folder; a longer chain than MAX_FOLDER_DEPTH is refused.
    if (path[path.length - 1]!.parent_id !== null) return null;
    // A trashed folder (or one inside a trashed folder) only for what the trash does with it.
    if (!opts.allowTrashed && path.some((p) => p.deleted_at !== null)) return null;
    const userId = actor.type === 'user' || actor.type === 'external' ? userIdOf(actor) : null;
    if (!userId) return null;
    const groups = new Set(await this.deps.folders.groupIdsOf(actor.tenantId, userId, exec));
    const grants = await this.deps.folders.grantsOn(
      actor.tenantId,
      path.map((p) => p.id),
      exec,
    );
    const nodes = path.map((p) => ({ id: p.id, ownerId: p.owner_id, deleted: p.deleted_at !== null }));
    const views = grants.map((g) => ({
      folderId: g.folder_id,
      subjectType: g.subject_type,
      subjectId: g.subject_id,
      role: g.role,
    }));
    const role = effectiveRole(nodes, views, userId, groups);
    if (!role) return null;
    // Roles only flow downwards: the highest folder with a role of its own (from its own chain) is where the visible path starts.
    let visible = 1;
    while (visible < path.length && effectiveRole(nodes.slice(visible), views, userId, groups)) visible++;
    return { folder: path[0]!, path, visiblePath: path.slice(0, visible), role };
  }

  /** The folder if the user holds at least `needed` on it; otherwise not found / forbidden. */
  async requireFolder(
    actor: Actor,
    folderId: string,
    needed: FolderRole,
    opts: { allowTrashed?: boolean } = {},
    exec?: Executor,
  ): Promise<FolderAccess> {
    const access = await this.folderRole(actor, folderId, opts, exec);
    if (!access) throw new AppError('folder.not_found');
    if (!atLeast(access.role, needed)) throw new AppError('folder.forbidden', `needs ${needed}, has ${access.role}`);
    return access;
  }

  /** The file if the user holds at least `needed` on its folder (a trashed file only with allowTrashed). */
  async requireFile(
    actor: Actor,
    fileId: string,
    needed: FolderRole,
    opts: { allowTrashed?: boolean } = {},
    exec?: Executor,
  ): Promise<FileAccessResult> {
    const file = await this.deps.files.find(actor.tenantId, fileId, exec);
    if (!file || (file.deleted_at !== null && !opts.allowTrashed)) throw new AppError('file.not_found');
    const access = await this.folderRole(actor, file.folder_id, { allowTrashed: opts.allowTrashed === true }, exec);
    if (!access) throw new AppError('file.not_found');
    if (!atLeast(access.role, needed)) throw new AppError('folder.forbidden', `needs ${needed}, has ${access.role}`);
    return { ...access, file };
  }
}
