/**
 * Folders (issue 4 §1): create, list, rename, move, trash and restore, permissions for colleagues and
 * groups with inheritance (AC-05), and an accountable owner for every folder (HR-04). Every change
 * and its audit event are one transaction.
 */
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor } from '../core/types.js';
import { randomId } from '../crypto/index.js';
import type { Database, Executor } from '../db/database.js';
import type { DB, FolderRole } from '../db/schema.js';
import type { UserRepository } from '../identity/user.repository.js';
import { higher } from './access.js';
import type { FileAccess, FolderAccess } from './file-access.js';
import type { FileRepository } from './file.repository.js';
import type { FolderDto, FolderListing } from './files.schemas.js';
import type { FileService } from './file.service.js';
import { MAX_FOLDER_DEPTH, type FolderRepository, type FolderRow } from './folder.repository.js';
import { keepBothName, nameKey, validName } from './names.js';
import { parseLabels } from '../labels/effective-labels.js';

export type OnConflict = 'error' | 'keep_both';

export interface FolderServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  folders: FolderRepository;
  files: FileRepository;
  users: UserRepository;
  access: FileAccess;
  fileService: () => FileService;
}

export class FolderService {
  constructor(private readonly deps: FolderServiceDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /** Resolves a name for `parentId`: the name itself, a "keep both" variant, or `name.taken`. */
  async resolveName(
    tenantId: string,
    parentId: string | null,
    rawName: string,
    onConflict: OnConflict,
    exec: Executor,
    ownerId?: string,
  ): Promise<string> {
    const name = validName(rawName);
    let taken: Set<string>;
    if (parentId === null) {
      // Top-level folders are per owner: two colleagues may each have a 「資料」.
      taken = await this.deps.folders.topLevelNames(tenantId, ownerId ?? '', exec);
    } else {
      taken = await this.deps.folders.namesIn(tenantId, parentId, exec);
    }
    if (!taken.has(nameKey(name))) return name;
    if (onConflict === 'error') throw new AppError('name.taken');
    return keepBothName(name, (k) => taken.has(k));
  }

  async create(actor: Actor, input: { parentId: string | null; name: string; onConflict: OnConflict }): Promise<FolderDto> {
    const userId = actor.id!;
    if (input.parentId !== null) {
      const parent = await this.deps.access.requireFolder(actor, input.parentId, 'editor');
      if (parent.path.length > MAX_FOLDER_DEPTH) throw new AppError('folder.forbidden', 'too deep');
    }
    const id = randomId();
    const at = this.now();
    await this.deps.database.transaction(async (trx) => {
      const name = await this.resolveName(actor.tenantId, input.parentId, input.name, input.onConflict, trx, userId);
      await this.deps.folders.insert(
        actor.tenantId,
        {
          id,
          parent_id: input.parentId,
          name,
          name_key: nameKey(name),
          owner_id: userId,
          created_by: userId,
          created_at: at,
          updated_at: at,
          deleted_at: null,
          deleted_by: null,
          labels: '[]',
        },
        trx,
      );
      await this.deps.audit.append(trx, actor, {
        action: 'folder.created',
        target: { type: 'folder', id },
        details: { name, parentId: input.parentId },
      });
    });
    return this.view(actor, id);
  }

  /** One folder as the caller sees it. */
  async view(actor: Actor, id: string): Promise<FolderDto> {
    const access = await this.deps.access.requireFolder(actor, id, 'viewer');
    return (await this.toDtos(actor.tenantId, [access.folder], access.role))[0]!;
  }

  /** The folder, its path, subfolders and files (files show their scan state). */
  async list(actor: Actor, id: string): Promise<FolderListing> {
    const access = await this.deps.access.requireFolder(actor, id, 'viewer');
    const [children, files] = await Promise.all([
      this.deps.folders.children(actor.tenantId, id),
      this.deps.files.inFolder(actor.tenantId, id),
    ]);
    const [folder] = await this.toDtos(actor.tenantId, [access.folder], access.role);
    const folders = await this.childDtos(actor, children, access.role);
    return {
      folder: folder!,
      path: pathRefs(access),
      folders,
      files: await this.deps.fileService().toDtos(actor.tenantId, files),
    };
  }

  /**
   * The folders to show at the top of the caller's tree: those they own or were granted, minus any
   * that sit below another one of those (they are reached from there).
   */
  async roots(actor: Actor): Promise<FolderDto[]> {
    const groups = await this.deps.folders.groupIdsOf(actor.tenantId, actor.id!);
    const ids = new Set(await this.deps.folders.reachableIds(actor.tenantId, actor.id!, groups));
    const out: FolderDto[] = [];
    for (const id of ids) {
      const access = await this.deps.access.folderRole(actor, id);
      if (!access) continue;
      if (access.path.slice(1).some((p) => ids.has(p.id))) continue;
      out.push(...(await this.toDtos(actor.tenantId, [access.folder], access.role)));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name, 'ja'));
  }

  async rename(actor: Actor, id: string, rawName: string): Promise<FolderDto> {
    const access = await this.deps.access.requireFolder(actor, id, 'editor');
    await this.deps.database.transaction(async (trx) => {
      const f = access.folder;
      const name = validName(rawName);
      if (nameKey(name) !== f.name_key) await this.resolveName(actor.tenantId, f.parent_id, name, 'error', trx, f.owner_id);
      await this.deps.folders.update(actor.tenantId, id, { name, name_key: nameKey(name), updated_at: this.now() }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'folder.renamed',
        target: { type: 'folder', id },
        details: { from: f.name, to: name },
      });
    });
    return this.view(actor, id);
  }

  /** Moves a folder under another one; needs manager on the folder and editor on the destination. */
  async move(actor: Actor, id: string, parentId: string): Promise<FolderDto> {
    const access = await this.deps.access.requireFolder(actor, id, 'manager');
    const dest = await this.deps.access.requireFolder(actor, parentId, 'editor');
    if (dest.path.some((p) => p.id === id)) throw new AppError('folder.cycle');
    const depthBelow = await this.subtreeDepth(actor.tenantId, id);
    if (dest.path.length + depthBelow > MAX_FOLDER_DEPTH) throw new AppError('folder.forbidden', 'too deep');
    await this.deps.database.transaction(async (trx) => {
      await this.resolveName(actor.tenantId, parentId, access.folder.name, 'error', trx);
      await this.deps.folders.update(actor.tenantId, id, { parent_id: parentId, updated_at: this.now() }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'folder.moved',
        target: { type: 'folder', id },
        details: { from: access.folder.parent_id, to: parentId },
      });
    });
    return this.view(actor, id);
  }

  private async subtreeDepth(tenantId: string, id: string): Promise<number> {
    const all = await this.deps.folders.descendants(tenantId, id);
    const parentOf = new Map(all.map((f) => [f.id, f.parent_id]));
    let max = 1;
    for (const f of all) {
      let d = 1;
      let cur: string | null | undefined = f.id;
      while (cur && cur !== id && d <= MAX_FOLDER_DEPTH + 1) {
        cur = parentOf.get(cur);
        d++;
      }
      max = Math.max(max, d);
    }
    return max;
  }

  /** Moves a folder (and so everything in it) to the trash; a top-level folder needs its manager. */
  async trash(actor: Actor, id: string): Promise<void> {
    const access = await this.deps.access.requireFolder(actor, id, 'editor');
    if (access.folder.parent_id === null && access.role !== 'manager') throw new AppError('folder.forbidden');
    await this.deps.database.transaction(async (trx) => {
      await this.deps.folders.update(actor.tenantId, id, { deleted_at: this.now(), deleted_by: actor.id }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'folder.deleted',
        target: { type: 'folder', id },
        details: { name: access.folder.name, parentId: access.folder.parent_id },
      });
    });
  }

  async restore(actor: Actor, id: string, onConflict: OnConflict): Promise<FolderDto> {
    const access = await this.deps.access.requireFolder(actor, id, 'editor', { allowTrashed: true });
    const f = access.folder;
    if (f.deleted_at === null) throw new AppError('folder.not_found', 'not in the trash');
    // Restored into a folder still in the trash, it would be live yet nowhere to be seen.
    if (access.path.slice(1).some((p) => p.deleted_at !== null)) throw new AppError('folder.parent_in_trash');
    await this.deps.database.transaction(async (trx) => {
      const name = await this.resolveName(actor.tenantId, f.parent_id, f.name, onConflict, trx, f.owner_id);
      await this.deps.folders.update(
        actor.tenantId,
        id,
        { deleted_at: null, deleted_by: null, name, name_key: nameKey(name), updated_at: this.now() },
        trx,
      );
      await this.deps.audit.append(trx, actor, {
        action: 'folder.restored',
        target: { type: 'folder', id },
        details: { name, renamedFrom: name === f.name ? undefined : f.name },
      });
    });
    return this.view(actor, id);
  }

  // ---- permissions (AC-05) ----

  async permissions(actor: Actor, id: string) {
    const access = await this.deps.access.requireFolder(actor, id, 'viewer');
    const grants = await this.deps.folders.grantsOn(
      actor.tenantId,
      access.path.map((p) => p.id),
    );
    const byId = new Map(access.path.map((p) => [p.id, p]));
    const names = await this.subjectNames(actor.tenantId, grants);
    const owner = await this.deps.users.findById(actor.tenantId, access.folder.owner_id);
    return {
      owner: { id: access.folder.owner_id, name: owner?.displayName ?? null, loginId: owner?.loginId ?? null },
      grants: grants.map((g) => ({
        id: g.id,
        folderId: g.folder_id,
        inheritedFrom: g.folder_id === id ? null : { id: g.folder_id, name: byId.get(g.folder_id)?.name ?? '' },
        subjectType: g.subject_type,
        subjectId: g.subject_id,
        subjectName: names.get(`${g.subject_type}:${g.subject_id}`) ?? '',
        role: g.role,
        grantedBy: g.granted_by,
        createdAt: g.created_at,
      })),
    };
  }

  private async subjectNames(
    tenantId: string,
    grants: { subject_type: string; subject_id: string }[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const g of grants) {
      const key = `${g.subject_type}:${g.subject_id}`;
      if (out.has(key)) continue;
      if (g.subject_type === 'user') {
        const u = await this.deps.users.findById(tenantId, g.subject_id);
        out.set(key, u ? `${u.displayName}（${u.loginId}）` : '');
      } else {
        const grp = await this.deps.database.db
          .selectFrom('groups')
          .select('name')
          .where('tenant_id', '=', tenantId)
          .where('id', '=', g.subject_id)
          .executeTakeFirst();
        out.set(key, grp?.name ?? '');
      }
    }
    return out;
  }

  /** Gives a colleague or a group a role on the folder (and so on everything below it); manager only. */
  async grant(actor: Actor, id: string, input: { subjectType: 'user' | 'group'; subjectId: string; role: FolderRole }) {
    await this.deps.access.requireFolder(actor, id, 'manager');
    await this.requireSubject(actor.tenantId, input.subjectType, input.subjectId);
    await this.deps.database.transaction(async (trx) => {
      await this.deps.folders.upsertGrant(
        actor.tenantId,
        { id: randomId(), folderId: id, ...input, grantedBy: actor.id!, at: this.now() },
        trx,
      );
      await this.deps.audit.append(trx, actor, {
        action: 'folder.permission_granted',
        target: { type: 'folder', id },
        details: { subjectType: input.subjectType, subjectId: input.subjectId, role: input.role },
      });
    });
    return this.permissions(actor, id);
  }

  async revoke(actor: Actor, id: string, grantId: string) {
    await this.deps.access.requireFolder(actor, id, 'manager');
    await this.deps.database.transaction(async (trx) => {
      const removed = await this.deps.folders.deleteGrant(actor.tenantId, id, grantId, trx);
      if (!removed) throw new AppError('folder.not_found', 'no such grant on this folder');
      await this.deps.audit.append(trx, actor, {
        action: 'folder.permission_revoked',
        target: { type: 'folder', id },
        details: { subjectType: removed.subject_type, subjectId: removed.subject_id, role: removed.role },
      });
    });
    return this.permissions(actor, id);
  }

  private async requireSubject(tenantId: string, type: 'user' | 'group', id: string): Promise<void> {
    if (type === 'user') {
      const u = await this.deps.users.findById(tenantId, id);
      if (!u || u.state !== 'active') throw new AppError('user.not_found');
      return;
    }
    const g = await this.deps.database.db
      .selectFrom('groups')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!g) throw new AppError('group.not_found');
  }

  // ---- accountable owners (HR-04) ----

  /** Every live folder with its owner, flagged when the owner is no longer active (admin page). */
  async ownership(tenantId: string) {
    const rows = await this.deps.folders.listForOwnership(tenantId);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      parentId: r.parent_id,
      ownerId: r.owner_id,
      ownerName: r.owner_name,
      ownerLoginId: r.owner_login_id,
      ownerActive: r.owner_state === 'active',
    }));
  }

  /**
   * When a user is suspended or deleted (HR-04): every live folder they own goes to `reassignTo`
   * in the same transaction; without an heir an admin's action is refused (`user.owns_folders`),
   * while an automatic suspension records that the folders need a new owner (admin page).
   */
  async handOver(
    trx: Transaction<DB>,
    actor: Actor,
    userId: string,
    opts: { reassignTo?: string | undefined; automatic: boolean },
  ): Promise<void> {
    const owned = await this.deps.folders.ownedBy(actor.tenantId, userId, trx);
    if (owned.length === 0) return;
    if (opts.reassignTo) {
      if (opts.reassignTo === userId) throw new AppError('folder.owner_invalid');
      for (const f of owned) await this.setOwner(actor, f.id, opts.reassignTo, trx);
      return;
    }
    if (!opts.automatic) throw new AppError('user.owns_folders', `${owned.length} folders`);
    for (const f of owned) {
      await this.deps.audit.append(trx, actor, {
        action: 'folder.owner_reassignment_required',
        target: { type: 'folder', id: f.id },
        details: { ownerId: userId, name: f.name },
      });
    }
  }

  /** A tenant admin hands a folder to another active user (HR-04). */
  async setOwner(actor: Actor, id: string, userId: string, exec?: Transaction<DB>): Promise<void> {
    const run = async (trx: Transaction<DB>) => {
      const f = await this.deps.folders.find(actor.tenantId, id, trx);
      if (!f) throw new AppError('folder.not_found');
      const u = await this.deps.users.findById(actor.tenantId, userId, trx);
      if (!u || u.state !== 'active') throw new AppError('folder.owner_invalid');
      await this.deps.folders.update(actor.tenantId, id, { owner_id: userId, updated_at: this.now() }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'folder.owner_changed',
        target: { type: 'folder', id },
        details: { from: f.owner_id, to: userId },
      });
    };
    if (exec) return run(exec);
    await this.deps.database.transaction(run);
  }

  /** Subfolders inherit the parent's role and may add their own grants or ownership on top. */
  private async childDtos(actor: Actor, children: FolderRow[], parentRole: FolderRole): Promise<FolderDto[]> {
    const groups = new Set(await this.deps.folders.groupIdsOf(actor.tenantId, actor.id!));
    const grants = await this.deps.folders.grantsOn(
      actor.tenantId,
      children.map((c) => c.id),
    );
    const out: FolderDto[] = [];
    for (const c of children) {
      let role: FolderRole | null = c.owner_id === actor.id ? 'manager' : parentRole;
      for (const g of grants) {
        if (g.folder_id !== c.id) continue;
        if (g.subject_type === 'user' ? g.subject_id === actor.id : groups.has(g.subject_id)) role = higher(role, g.role);
      }
      out.push(...(await this.toDtos(actor.tenantId, [c], role ?? parentRole)));
    }
    return out;
  }

  async toDtos(tenantId: string, rows: FolderRow[], role: FolderRole): Promise<FolderDto[]> {
    const owners = new Map<string, string | null>();
    for (const r of rows) {
      if (!owners.has(r.owner_id))
        owners.set(r.owner_id, (await this.deps.users.findById(tenantId, r.owner_id))?.displayName ?? null);
    }
    return rows.map((r) => ({
      id: r.id,
      parentId: r.parent_id,
      name: r.name,
      ownerId: r.owner_id,
      ownerName: owners.get(r.owner_id) ?? null,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      role,
      labels: parseLabels(r.labels),
    }));
  }
}

export function pathRefs(access: FolderAccess): { id: string; name: string }[] {
  return [...access.visiblePath].reverse().map((p) => ({ id: p.id, name: p.name }));
}
