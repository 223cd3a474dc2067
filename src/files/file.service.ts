/**
 * Files and versions (issue 4 §1, §5, §7): uploads become a new file or a new version, `held` until
 * the scan job says clean (MAL-01); rename, move, copy, trash and restore; downloads of available
 * versions only, whole or by range, with the SHA-256 checked as the bytes stream out (TLS-02).
 * Every change and its audit event are one transaction.
 */
import type { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { categoryOfName } from '../malware/true-type.js';
import { AppError } from '../core/errors.js';
import { systemActor, userIdOf, type Actor, type TenantId, type Zone } from '../core/types.js';
import { randomId } from '../crypto/index.js';
import type { Database, Executor } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { UserRepository } from '../identity/user.repository.js';
import type { JobQueue } from '../jobs/job-queue.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { FileSettings } from '../tenants/tenant-settings.js';
import { recordBlobDamage } from './blob-damage.js';
import { isAbort, isIntegrityFailure, type BlobVault, type StoredBlob } from './blob-vault.js';
import type { FileAccess } from './file-access.js';
import type { FileRepository, FileRow, VersionRow } from './file.repository.js';
import type { FileDto, VersionDto } from './files.schemas.js';
import { pathRefs, type FolderService, type OnConflict } from './folder.service.js';
import type { FolderRepository } from './folder.repository.js';
import { nameKey, validName } from './names.js';
import { effectiveLabelsOf } from '../labels/effective-labels.js';
import { PII_JOB } from '../labels/label.service.js';
import type { UploadRepository } from './upload.repository.js';

/** Scan jobs retry with the queue's backoff (capped at 1 h) for about a week before giving up (MAL-01: never released). */
export const SCAN_MAX_ATTEMPTS = 200;
export const SCAN_JOB = 'files.scan';
/** 無害化 of one version (MAL-07); handled by src/sanitize. */
export const SANITIZE_JOB = 'files.sanitize';

export interface FileServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  folders: FolderRepository;
  files: FileRepository;
  uploads: UploadRepository;
  users: UserRepository;
  access: FileAccess;
  folderService: FolderService;
  vault: BlobVault;
  jobs: JobQueue;
  policy: TenantPolicyService;
  maxFileBytes: number;
  /** Whether `actor` holds an approval for the original of an internet-origin version on LGWAN (MAL-08). */
  originalApproved: (actor: Actor, versionId: string) => Promise<boolean>;
}

export interface NewVersionInput {
  folderId: string;
  /** Set for a new version of an existing file. */
  fileId?: string | null | undefined;
  name: string;
  contentType: string;
  onConflict: OnConflict;
  zone: Zone;
}

export interface Download {
  name: string;
  contentType: string;
  /** Size of the whole version. */
  size: number;
  sha256: string;
  etag: string;
  version: number;
  /** The bytes are the 無害化 rebuild, not the original (MAL-08). */
  sanitised: boolean;
  /** Inclusive byte range served, or null for the whole version. */
  range: { start: number; end: number } | null;
  stream: Readable;
}

export class FileService {
  constructor(private readonly deps: FileServiceDeps) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  // ---- quotas ----

  async quota(actor: Actor) {
    const settings = (await this.deps.policy.get(actor.tenantId)).files;
    const [tenantUsed, userUsed] = await Promise.all([this.used(actor.tenantId), this.used(actor.tenantId, userIdOf(actor))]);
    return {
      tenant: { usedBytes: tenantUsed, limitBytes: settings.tenantQuotaBytes },
      user: { usedBytes: userUsed, limitBytes: settings.userQuotaBytes },
      maxFileBytes: this.deps.maxFileBytes,
    };
  }

  private async used(tenantId: string, userId?: string, exec?: Executor): Promise<number> {
    const [stored, reserved] = await Promise.all([
      this.deps.files.usedBytes(tenantId, userId, exec),
      this.deps.uploads.reservedBytes(tenantId, userId, exec),
    ]);
    return stored + reserved;
  }

  /**
   * How many more bytes the user may store now (tenant and user quotas, and the file size limit).
   * `reservedBySelf` is an upload session's own reservation, which must not count against itself.
   */
  async headroom(actor: Actor, exec?: Executor, quotas?: FileSettings): Promise<number> {
    const q = quotas ?? (await this.deps.policy.get(actor.tenantId)).files;
    let room = this.deps.maxFileBytes;
    if (q.tenantQuotaBytes > 0) room = Math.min(room, q.tenantQuotaBytes - (await this.used(actor.tenantId, undefined, exec)));
    if (q.userQuotaBytes > 0) room = Math.min(room, q.userQuotaBytes - (await this.used(actor.tenantId, userIdOf(actor), exec)));
    return Math.max(0, room);
  }

  /**
   * Removes ciphertext whose upload never committed (the process died between the blob and its row),
   * found through intents older than `before`. Returns how many blobs were removed.
   */
  async collectOrphans(before: string): Promise<number> {
    let n = 0;
    for (const intent of await this.deps.files.staleIntents(before, 1000)) {
      if (!intent.blob_row) {
        await this.deps.vault.delete(intent.tenant_id, intent.id);
        n++;
      }
      await this.deps.files.deleteIntent(intent.tenant_id, intent.id);
    }
    return n;
  }

  /** Tells local workers that committed uploads wait for their scan. */
  scanQueued(): void {
    this.deps.jobs.notify();
  }

  async quotasOf(tenantId: string): Promise<FileSettings> {
    return (await this.deps.policy.get(tenantId)).files;
  }

  /**
   * Serialises the quota checks of one tenant (new versions, copies) until the transaction ends, so
   * two at once cannot both fit into the same headroom.
   */
  private lockQuota(trx: Transaction<DB>, tenantId: string): Promise<void> {
    return this.deps.database.lock(trx, `kura.quota:${tenantId}`);
  }

  /** Refuses (413) before any byte is stored when `bytes` would not fit; returns the headroom. */
  async requireRoom(actor: Actor, bytes: number): Promise<number> {
    if (bytes > this.deps.maxFileBytes) throw new AppError('upload.too_large', `${bytes} > ${this.deps.maxFileBytes}`);
    const room = await this.headroom(actor);
    if (bytes > room) throw new AppError('quota.exceeded');
    return room;
  }

  // ---- uploads ----

  /** Checks that an upload may start: editor on the folder, a valid name, and (for a new version) the file. */
  async prepareUpload(actor: Actor, input: NewVersionInput): Promise<{ name: string }> {
    if (input.fileId) {
      const f = await this.deps.access.requireFile(actor, input.fileId, 'editor');
      if (f.file.folder_id !== input.folderId) throw new AppError('file.not_found');
      await this.refuseBlockedName(actor, f.file.name);
      return { name: f.file.name };
    }
    await this.deps.access.requireFolder(actor, input.folderId, 'editor');
    const name = validName(input.name);
    await this.refuseBlockedName(actor, name);
    if (input.onConflict === 'error' && (await this.deps.folders.namesIn(actor.tenantId, input.folderId)).has(nameKey(name))) {
      throw new AppError('name.taken');
    }
    return { name };
  }

  /** MAL-06: a name whose extension is on the tenant's block-list is refused before any byte is stored (415). */
  private async refuseBlockedName(actor: Actor, name: string): Promise<void> {
    const blocked = (await this.deps.policy.get(actor.tenantId)).malware.blockedTypes;
    const category = categoryOfName(name);
    if (blocked.includes(category)) throw new AppError('file.type_blocked', category);
  }

  /** A simple (one-request) upload: streams the body through SHA-256 and encryption into a durable blob, then records it. */
  async upload(actor: Actor, input: NewVersionInput, body: Readable, declaredBytes: number | null): Promise<FileDto> {
    await this.prepareUpload(actor, input);
    const room = await this.requireRoom(actor, declaredBytes ?? 0);
    let blob: StoredBlob;
    try {
      blob = await this.deps.vault.write(actor.tenantId, body, room, (blobId) =>
        this.deps.files.insertIntent(actor.tenantId, blobId, this.now()),
      );
    } catch (err) {
      // Past the headroom: the file limit or a quota, whichever was smaller.
      if (err instanceof AppError && err.code === 'upload.too_large' && room < this.deps.maxFileBytes)
        throw new AppError('quota.exceeded');
      throw err;
    }
    try {
      const quotas = (await this.deps.policy.get(actor.tenantId)).files;
      const fileId = await this.deps.database.transaction((trx) => this.record(trx, actor, input, blob, quotas));
      this.deps.jobs.notify();
      return await this.dtoOf(actor.tenantId, fileId);
    } catch (err) {
      await this.deps.vault.delete(actor.tenantId, blob.blobId).catch(() => {});
      throw err;
    }
  }

  /**
   * Records a durable blob as a new file or a new version, `held`, and queues its scan, in the
   * caller's transaction (the upload is acknowledged only after it commits). Returns the file id.
   */
  async record(
    trx: Transaction<DB>,
    actor: Actor,
    input: NewVersionInput,
    blob: StoredBlob,
    quotas: FileSettings,
  ): Promise<string> {
    const tenantId = actor.tenantId;
    const at = this.now();
    // Access and quota again inside the transaction: either may have changed while the bytes streamed.
    await this.deps.access.requireFolder(actor, input.folderId, 'editor', {}, trx);
    await this.lockQuota(trx, tenantId);
    if (blob.plainSize > (await this.headroom(actor, trx, quotas))) throw new AppError('quota.exceeded');
    await this.deps.files.deleteIntent(tenantId, blob.blobId, trx);
    await this.deps.files.insertBlob(
      tenantId,
      {
        id: blob.blobId,
        kek_version: blob.kekVersion,
        wrapped_dek: blob.wrappedDek,
        plain_size: blob.plainSize,
        cipher_size: blob.cipherSize,
        sha256: blob.sha256,
        created_at: at,
        verified_at: null,
        damaged_at: null,
        damage: null,
      },
      trx,
    );
    let fileId = input.fileId ?? null;
    let name: string;
    if (fileId) {
      const f = await this.deps.files.find(tenantId, fileId, trx);
      if (!f || f.deleted_at !== null || f.folder_id !== input.folderId) throw new AppError('file.not_found');
      name = f.name;
      await this.deps.files.update(tenantId, fileId, { updated_at: at }, trx);
    } else {
      fileId = randomId();
      name = await this.deps.folderService.resolveName(tenantId, input.folderId, input.name, input.onConflict, trx);
      await this.insertFile(trx, actor, fileId, input.folderId, name, at);
    }
    const version = await this.deps.files.nextVersion(tenantId, fileId, trx);
    const versionId = randomId();
    await this.deps.files.insertVersion(
      tenantId,
      {
        id: versionId,
        file_id: fileId,
        version,
        blob_id: blob.blobId,
        size: blob.plainSize,
        sha256: blob.sha256,
        content_type: safeContentType(input.contentType),
        state: 'held',
        scan_engine: null,
        scan_engine_version: null,
        scan_result: null,
        scan_signature: null,
        scan_attempts: 0,
        scanned_at: null,
        ...NO_MALWARE_FIELDS,
        origin_zone: input.zone,
        uploaded_by: userIdOf(actor),
        created_at: at,
      },
      trx,
    );
    await this.deps.audit.append(trx, actor, {
      action: version === 1 ? 'file.uploaded' : 'file.version_added',
      target: { type: 'file', id: fileId },
      details: { name, folderId: input.folderId, version, size: blob.plainSize, sha256: blob.sha256, blobId: blob.blobId },
    });
    await this.deps.jobs.enqueue({ kind: SCAN_JOB, tenantId, payload: { versionId }, maxAttempts: SCAN_MAX_ATTEMPTS }, trx);
    return fileId;
  }

  private insertFile(
    trx: Transaction<DB>,
    actor: Actor,
    id: string,
    folderId: string,
    name: string,
    at: string,
    labels = '[]',
  ): Promise<void> {
    return this.deps.files.insert(
      actor.tenantId,
      {
        id,
        folder_id: folderId,
        name,
        name_key: nameKey(name),
        created_by: userIdOf(actor),
        created_at: at,
        updated_at: at,
        deleted_at: null,
        deleted_by: null,
        labels,
      },
      trx,
    );
  }

  // ---- reading ----

  async detail(actor: Actor, fileId: string) {
    const access = await this.deps.access.requireFile(actor, fileId, 'viewer');
    const versions = await this.deps.files.versions(actor.tenantId, fileId);
    const [dto] = await this.toDtos(actor.tenantId, [access.file], versions);
    const names = await this.userNames(actor.tenantId, versions);
    return { ...dto!, versions: versions.map((v) => versionDto(v, names)), path: pathRefs(access), role: access.role };
  }

  private async dtoOf(tenantId: string, fileId: string): Promise<FileDto> {
    const f = await this.deps.files.find(tenantId, fileId);
    return (await this.toDtos(tenantId, [f!]))[0]!;
  }

  /** Files with their newest version and newest downloadable version. */
  async toDtos(tenantId: string, files: FileRow[], preloaded?: VersionRow[]): Promise<FileDto[]> {
    const versions =
      preloaded ??
      (await this.deps.files.versionsOf(
        tenantId,
        files.map((f) => f.id),
      ));
    const names = await this.userNames(tenantId, versions);
    const byFile = new Map<string, VersionRow[]>();
    for (const v of versions) byFile.set(v.file_id, [...(byFile.get(v.file_id) ?? []), v]);
    // PII-01: the level and flags each file carries, its folders' included.
    const labelSettings = (await this.deps.policy.get(tenantId)).labels;
    const labels = await effectiveLabelsOf(this.deps.folders, labelSettings, tenantId, files);
    return files.flatMap((f) => {
      const vs = (byFile.get(f.id) ?? []).sort((a, b) => b.version - a.version);
      if (vs.length === 0) return [];
      return [
        {
          id: f.id,
          folderId: f.folder_id,
          name: f.name,
          createdAt: f.created_at,
          updatedAt: f.updated_at,
          latest: versionDto(vs[0]!, names),
          availableVersion: vs.find((v) => v.state === 'available')?.version ?? null,
          deletedAt: f.deleted_at,
          labels: labels.get(f.id)!,
          pii: piiDto(vs[0]!),
        },
      ];
    });
  }

  private async userNames(tenantId: string, versions: VersionRow[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const id of new Set(versions.map((v) => v.uploaded_by))) {
      const u = await this.deps.users.findById(tenantId, id);
      if (u) out.set(id, u.displayName);
    }
    return out;
  }

  // ---- changes ----

  async rename(actor: Actor, fileId: string, rawName: string, onConflict: OnConflict): Promise<FileDto> {
    const { file } = await this.deps.access.requireFile(actor, fileId, 'editor');
    // A rename must not turn a checked file into a blocked type (e.g. 報告.pdf → 報告.exe).
    await this.refuseBlockedName(actor, validName(rawName));
    await this.deps.database.transaction(async (trx) => {
      let name = validName(rawName);
      if (nameKey(name) !== file.name_key) {
        name = await this.deps.folderService.resolveName(actor.tenantId, file.folder_id, name, onConflict, trx);
      }
      await this.deps.files.update(actor.tenantId, fileId, { name, name_key: nameKey(name), updated_at: this.now() }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'file.renamed',
        target: { type: 'file', id: fileId },
        details: { from: file.name, to: name },
      });
    });
    return this.dtoOf(actor.tenantId, fileId);
  }

  async move(actor: Actor, fileId: string, folderId: string, onConflict: OnConflict): Promise<FileDto> {
    const { file } = await this.deps.access.requireFile(actor, fileId, 'editor');
    await this.deps.access.requireFolder(actor, folderId, 'editor');
    if (folderId === file.folder_id) return this.dtoOf(actor.tenantId, fileId);
    await this.deps.database.transaction(async (trx) => {
      const name = await this.deps.folderService.resolveName(actor.tenantId, folderId, file.name, onConflict, trx);
      await this.deps.files.update(
        actor.tenantId,
        fileId,
        { folder_id: folderId, name, name_key: nameKey(name), updated_at: this.now() },
        trx,
      );
      await this.deps.audit.append(trx, actor, {
        action: 'file.moved',
        target: { type: 'file', id: fileId },
        details: { from: file.folder_id, to: folderId, name },
      });
    });
    return this.dtoOf(actor.tenantId, fileId);
  }

  /**
   * The labels a copy takes as its own (PII-01): everything the original carries, its folders'
   * included, so copying a file out of a 機密性3 / 特定個人情報 folder does not shed them. A level that
   * is only the tenant's default is left for the new place to decide.
   */
  private async carriedLabels(tenantId: string, file: FileRow): Promise<string> {
    const settings = (await this.deps.policy.get(tenantId)).labels;
    const eff = (await effectiveLabelsOf(this.deps.folders, settings, tenantId, [file])).get(file.id);
    if (!eff) return file.labels;
    const explicitLevel = [...eff.own, ...eff.inherited].some((l) => settings.levels.includes(l));
    return JSON.stringify(explicitLevel ? [eff.level, ...eff.flags] : eff.flags);
  }

  /** Copies the newest version into a folder; the bytes are shared (same blob), the copy is a new file. */
  async copy(
    actor: Actor,
    fileId: string,
    input: { folderId: string; name?: string | undefined; onConflict: OnConflict },
  ): Promise<FileDto> {
    const { file } = await this.deps.access.requireFile(actor, fileId, 'viewer');
    await this.deps.access.requireFolder(actor, input.folderId, 'editor');
    const [read] = await this.deps.files.versions(actor.tenantId, fileId);
    // Only a clean version, or one still waiting for its first scan: a copy must not bypass a hold or a block.
    const copyable = (v: VersionRow | undefined) =>
      v && (v.state === 'available' || (v.state === 'held' && v.hold_reason === null));
    if (!copyable(read)) throw new AppError('file.not_available');
    await this.refuseBlockedName(actor, validName(input.name ?? file.name));
    await this.requireRoom(actor, read!.size);
    const quotas = await this.quotasOf(actor.tenantId);
    const carried = await this.carriedLabels(actor.tenantId, file);
    const copyId = randomId();
    await this.deps.database.transaction(async (trx) => {
      const at = this.now();
      // Again inside the transaction: a rescan or the retention purge may have changed it meanwhile.
      const latest = (await this.deps.files.versions(actor.tenantId, fileId, trx))[0];
      if (!latest || !copyable(latest)) throw new AppError('file.not_available');
      // And the quota: copies made at the same time must not each pass the check above.
      await this.lockQuota(trx, actor.tenantId);
      if (latest.size > (await this.headroom(actor, trx, quotas))) throw new AppError('quota.exceeded');
      const name = await this.deps.folderService.resolveName(
        actor.tenantId,
        input.folderId,
        input.name ?? file.name,
        input.onConflict,
        trx,
      );
      await this.insertFile(trx, actor, copyId, input.folderId, name, at, carried);
      const versionId = randomId();
      await this.deps.files.insertVersion(
        actor.tenantId,
        { ...withoutTenant(latest), id: versionId, file_id: copyId, version: 1, uploaded_by: actor.id!, created_at: at },
        trx,
      );
      await this.deps.audit.append(trx, actor, {
        action: 'file.copied',
        target: { type: 'file', id: copyId },
        details: { from: fileId, version: latest.version, folderId: input.folderId, name },
      });
      if (latest.state === 'held') {
        await this.deps.jobs.enqueue(
          { kind: SCAN_JOB, tenantId: actor.tenantId, payload: { versionId }, maxAttempts: SCAN_MAX_ATTEMPTS },
          trx,
        );
      }
      if (latest.sanitize_state === 'pending')
        await this.deps.jobs.enqueue(
          { kind: SANITIZE_JOB, tenantId: actor.tenantId, payload: { versionId }, maxAttempts: 5 },
          trx,
        );
      // PII-02: the copy gets its own personal-data check when the original's has not finished.
      if (latest.state === 'available' && latest.pii_state === 'pending')
        await this.deps.jobs.enqueue({ kind: PII_JOB, tenantId: actor.tenantId, payload: { versionId } }, trx);
    });
    return this.dtoOf(actor.tenantId, copyId);
  }

  async trash(actor: Actor, fileId: string): Promise<void> {
    const { file } = await this.deps.access.requireFile(actor, fileId, 'editor');
    await this.deps.database.transaction(async (trx) => {
      await this.deps.files.update(actor.tenantId, fileId, { deleted_at: this.now(), deleted_by: actor.id }, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'file.deleted',
        target: { type: 'file', id: fileId },
        details: { name: file.name, folderId: file.folder_id },
      });
    });
  }

  async restore(actor: Actor, fileId: string, onConflict: OnConflict): Promise<FileDto> {
    const { file, path } = await this.deps.access.requireFile(actor, fileId, 'editor', { allowTrashed: true });
    if (file.deleted_at === null) throw new AppError('file.not_found', 'not in the trash');
    if (path.some((p) => p.deleted_at !== null)) throw new AppError('folder.parent_in_trash');
    await this.deps.database.transaction(async (trx) => {
      const name = await this.deps.folderService.resolveName(actor.tenantId, file.folder_id, file.name, onConflict, trx);
      await this.deps.files.update(
        actor.tenantId,
        fileId,
        { deleted_at: null, deleted_by: null, name, name_key: nameKey(name), updated_at: this.now() },
        trx,
      );
      await this.deps.audit.append(trx, actor, {
        action: 'file.restored',
        target: { type: 'file', id: fileId },
        details: { name, renamedFrom: name === file.name ? undefined : file.name },
      });
    });
    return this.dtoOf(actor.tenantId, fileId);
  }

  // ---- downloads ----

  /**
   * Opens an available version (the newest available one unless `version` is given) for download,
   * after writing the `file.downloaded` event. `range` is an inclusive byte range, already checked
   * against the size by the caller through `sizeOf`.
   */
  async download(
    actor: Actor,
    fileId: string,
    opts: {
      version?: number | undefined;
      range?: (size: number) => { start: number; end: number } | null;
      /** On LGWAN: the original of an internet-origin version instead of its sanitised rebuild (needs an approval). */
      original?: boolean | undefined;
    },
  ): Promise<Download> {
    const { file } = await this.deps.access.requireFile(actor, fileId, 'viewer');
    const versions = await this.deps.files.versions(actor.tenantId, fileId);
    const v =
      opts.version === undefined
        ? versions.find((x) => x.state === 'available')
        : versions.find((x) => x.version === opts.version);
    if (!v) throw new AppError(opts.version === undefined && versions.length ? 'file.not_available' : 'file.not_found');
    if (v.state !== 'available') throw new AppError('file.not_available', v.state);
    return this.serveVersion(actor, file, v, { range: opts.range, original: opts.original === true });
  }

  /**
   * Streams one available version whose access the caller has already checked: downloads above,
   * and the exchange (share links for outside parties, the approver's view), which audit with their
   * own action. `inTransaction` runs with the audit event (e.g. the exchange's download counter).
   */
  async serveVersion(
    actor: Actor,
    file: FileRow,
    v: VersionRow,
    opts: {
      range?: ((size: number, etag?: string) => { start: number; end: number } | null) | undefined;
      original?: boolean;
      audit?: { action: string; details: Record<string, unknown> };
      inTransaction?: (trx: Transaction<DB>, range: { start: number; end: number } | null) => Promise<void>;
    },
  ): Promise<Download> {
    if (v.state !== 'available') throw new AppError('file.not_available', v.state);
    const serve = await this.deliverable(actor, v, file.name, opts.original === true);
    const blob = await this.deps.files.findBlob(actor.tenantId, serve.blobId);
    if (!blob) return this.integrityFault(actor, file, v, 'blob row missing', serve.blobId);
    // Found damaged before (by the scrubber or another download): never served again.
    if (blob.damaged_at !== null) throw new AppError('file.not_available', 'damaged');
    const etag = serve.sanitised ? `"${v.id}-sanitised"` : `"${v.id}"`;
    const range = opts.range?.(serve.size, etag) ?? null;
    await this.deps.database.transaction(async (trx) => {
      await opts.inTransaction?.(trx, range);
      await this.deps.audit.append(trx, actor, {
        action: opts.audit?.action ?? 'file.downloaded',
        target: { type: 'file', id: file.id },
        details: {
          version: v.version,
          size: serve.size,
          range: range ? `${range.start}-${range.end}` : undefined,
          sha256: serve.sha256,
          ...(serve.sanitised ? { sanitised: true } : {}),
          ...(opts.original ? { original: true } : {}),
          ...opts.audit?.details,
        },
      });
    });
    let stream: Readable;
    try {
      // Whole downloads are checked against the recorded SHA-256 as they stream; a mismatch aborts the response.
      stream = range
        ? await this.deps.vault.openRange(blob, range.start, range.end)
        : await this.deps.vault.open(blob, { verify: { sha256: serve.sha256, size: serve.size } });
    } catch (err) {
      if ((err as Error).name === 'BlobNotFoundError')
        return this.integrityFault(actor, file, v, 'blob missing from the store', serve.blobId);
      throw err;
    }
    stream.on('error', (err) => {
      // A client that went away is not a fault. Tampering or a mismatch marks the version damaged; a
      // store that failed to read (I/O, network) is a fault event only, as it may pass.
      if (isAbort(err)) return;
      const recorded = isIntegrityFailure(err)
        ? this.recordFault(actor, file, v, (err as Error).message, serve.blobId)
        : this.recordUnreadable(actor, file, v, err as Error, serve.blobId);
      void recorded.catch(() => {});
    });
    return {
      name: serve.name,
      contentType: serve.contentType,
      size: serve.size,
      sha256: serve.sha256,
      etag,
      version: v.version,
      sanitised: serve.sanitised,
      range,
      stream,
    };
  }

  /**
   * Which bytes a download serves (MAL-08, LG-03): on the LGWAN zone an internet-origin version is
   * delivered as its sanitised rebuild when the tenant's rule is on; while 無害化 is pending that is a
   * 409, after it failed or was blocked a 403. The original there needs an approved request.
   */
  private async deliverable(
    actor: Actor,
    v: VersionRow,
    name: string,
    original: boolean,
  ): Promise<{ blobId: string; name: string; contentType: string; size: number; sha256: string; sanitised: boolean }> {
    const asIs = { blobId: v.blob_id, name, contentType: v.content_type, size: v.size, sha256: v.sha256, sanitised: false };
    if (actor.zone !== 'lgwan' || v.origin_zone !== 'internet') return asIs;
    const rule = (await this.deps.policy.get(actor.tenantId)).malware.sanitiseInternetToLgwan;
    if (!rule && v.sanitize_state === null) return asIs;
    if (original) {
      if (await this.deps.originalApproved(actor, v.id)) return asIs;
      throw new AppError('file.original_needs_approval');
    }
    switch (v.sanitize_state) {
      case 'sanitised':
      case 'sanitised_with_loss':
        return {
          blobId: v.sanitized_blob_id!,
          name: v.sanitized_name ?? name,
          contentType: v.sanitized_content_type ?? v.content_type,
          size: v.sanitized_size!,
          sha256: v.sanitized_sha256!,
          sanitised: true,
        };
      case null:
        // Uploaded while the rule was off: rebuild it now (once, however many downloads ask at the same time).
        await this.deps.database.transaction(async (trx) => {
          if (!(await this.deps.files.markSanitizePending(actor.tenantId, v.id, trx))) return;
          await this.deps.jobs.enqueue(
            { kind: SANITIZE_JOB, tenantId: actor.tenantId, payload: { versionId: v.id }, maxAttempts: 5 },
            trx,
          );
          await this.deps.audit.append(trx, actor, {
            action: 'file.sanitise_requested',
            target: { type: 'file', id: v.file_id },
            details: { version: v.version, reason: 'internet-origin version delivered on LGWAN' },
          });
        });
        this.deps.jobs.notify();
        throw new AppError('file.sanitising');
      case 'pending':
        throw new AppError('file.sanitising');
      default:
        throw new AppError('file.sanitise_failed', v.sanitize_state);
    }
  }

  private async integrityFault(actor: Actor, file: FileRow, v: VersionRow, reason: string, blobId = v.blob_id): Promise<never> {
    const recorded = await this.recordFault(actor, file, v, reason, blobId);
    // The version moved on meanwhile (its original was purged after the retention period): not a fault.
    if (!recorded) throw new AppError('file.not_available', 'the version changed while it was opened');
    throw new AppError('file.integrity_failed', reason);
  }

  /**
   * Records a broken blob (TLS-02) and writes a fault event; never serves other bytes instead. The
   * original broken → the version is `damaged`; its sanitised rebuild broken → only the 無害化 result
   * is `failed` (the original is intact). Returns false when the version no longer uses that blob.
   */
  async recordFault(
    actor: Actor,
    file: Pick<FileRow, 'id'>,
    v: VersionRow,
    reason: string,
    blobId = v.blob_id,
  ): Promise<boolean> {
    return this.deps.database.transaction(async (trx) => {
      const now = await this.deps.files.findVersion(actor.tenantId, v.id, trx);
      if (!now || (now.blob_id !== blobId && now.sanitized_blob_id !== blobId)) return false;
      // Every version sharing the blob (copies, restore points) is marked, not only the one read.
      await recordBlobDamage(this.deps, trx, actor.tenantId, blobId, this.now(), reason, actor.type);
      return true;
    });
  }

  /** A download the store failed to read mid-stream: a fault event, no change of state. */
  private async recordUnreadable(actor: Actor, file: Pick<FileRow, 'id'>, v: VersionRow, err: Error, blobId: string) {
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, systemActor(actor.tenantId as TenantId), {
        action: 'file.blob_unreadable',
        target: { type: 'file', id: file.id },
        outcome: 'error',
        reason: 'service.unavailable',
        details: { version: v.version, blobId, reason: err.message.slice(0, 200), detectedBy: actor.type },
      }),
    );
  }
}

/** A new version: no type verdict, no 無害化 result, never released. */
export const NO_MALWARE_FIELDS = {
  detected_type: null,
  hold_reason: null,
  sanitize_state: null,
  sanitized_blob_id: null,
  sanitized_size: null,
  sanitized_sha256: null,
  sanitized_content_type: null,
  sanitized_name: null,
  sanitize_report: null,
  sanitized_at: null,
  released_by: null,
  released_at: null,
  release_reason: null,
  pii_state: null,
  pii_hits: null,
  pii_checked_at: null,
} as const;

function withoutTenant<T extends { tenant_id: string }>(row: T): Omit<T, 'tenant_id'> {
  const { tenant_id: _t, ...rest } = row;
  return rest;
}

function versionDto(v: VersionRow, names: Map<string, string>): VersionDto {
  return {
    id: v.id,
    version: v.version,
    size: v.size,
    sha256: v.sha256,
    contentType: v.content_type,
    state: v.state,
    scan: {
      engine: v.scan_engine,
      engineVersion: v.scan_engine_version,
      result: v.scan_result,
      signature: v.scan_signature,
      attempts: v.scan_attempts,
      at: v.scanned_at,
    },
    originZone: v.origin_zone,
    uploadedBy: v.uploaded_by,
    uploadedByName: names.get(v.uploaded_by) ?? null,
    createdAt: v.created_at,
    detectedType: v.detected_type,
    holdReason: v.hold_reason,
    sanitize: v.sanitize_state === null ? null : sanitizeDto(v),
    released: v.released_at ? { at: v.released_at, by: v.released_by, reason: v.release_reason } : null,
  };
}

/** The personal-data check of a version (PII-02): kinds and counts only, never matched text. */
function piiDto(v: VersionRow): FileDto['pii'] {
  let hits: Array<{ kind: string; count: number }> = [];
  try {
    const parsed: unknown = v.pii_hits ? JSON.parse(v.pii_hits) : [];
    if (Array.isArray(parsed))
      hits = parsed
        .filter((h): h is { kind: string; count: number } => typeof h?.kind === 'string' && typeof h?.count === 'number')
        .map((h) => ({ kind: h.kind, count: h.count }));
  } catch {
    hits = [];
  }
  return { state: v.pii_state, hits };
}

function sanitizeDto(v: VersionRow): NonNullable<VersionDto['sanitize']> {
  let report: { engine?: string; removed?: Array<{ kind: string; count: number; detail?: string }>; reason?: string } = {};
  try {
    report = v.sanitize_report ? (JSON.parse(v.sanitize_report) as typeof report) : {};
  } catch {
    report = {};
  }
  return {
    state: v.sanitize_state!,
    name: v.sanitized_name,
    size: v.sanitized_size,
    sha256: v.sanitized_sha256,
    contentType: v.sanitized_content_type,
    engine: report.engine ?? null,
    removed: report.removed ?? [],
    reason: report.reason ?? null,
  };
}

/** A declared content type is kept only when it looks like one; anything else is octet-stream (served as an attachment anyway). */
export function safeContentType(t: string | undefined | null): string {
  const v = (t ?? '').trim().toLowerCase();
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(v) ? v : 'application/octet-stream';
}
