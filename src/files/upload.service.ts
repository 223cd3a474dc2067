/**
 * Resumable uploads (tus 1.0 core + creation + termination + checksum/sha256, issue 4 §5).
 *
 * Staged bytes are ciphertext from the first byte: each PATCH seals complete 64 KiB segments of the
 * blob format (design §5) into a local staging file with the session's own DEK, so the durable
 * offset is always a segment boundary (or the end). A PATCH that ends mid-segment keeps the bytes
 * of the complete segments and reports that offset; tus clients continue from the offset the server
 * reports. A chunk whose `Upload-Checksum` does not match is discarded (460); a client that drops
 * the connection keeps what was durably written. When the last byte arrives the staged blob moves
 * into the blob store and the file row commits; only then is the upload acknowledged.
 */
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { systemActor, userIdOf, type Actor, type TenantId, type Zone } from '../core/types.js';
import {
  createDecryptStream,
  createSha256,
  encodeHeader,
  HEADER_BYTES,
  NONCE_PREFIX_BYTES,
  parseHeader,
  randomBytes,
  randomId,
  SALT_BYTES,
  sealSegment,
  segmentCipher,
  SEGMENT_CIPHERTEXT_BYTES,
  SEGMENT_PLAINTEXT_BYTES,
  segmentKey,
  type Sha256Stream,
} from '../crypto/index.js';
import type { Database } from '../db/database.js';
import type { AuditLog } from '../audit/audit-log.js';
import { blobKey, BlobExistsError } from '../storage/blob-store.js';
import { discard, MeasureStream, type BlobVault } from './blob-vault.js';
import type { FileService } from './file.service.js';
import type { OnConflict } from './folder.service.js';
import type { UploadRepository, UploadRow } from './upload.repository.js';
import { BatchWriter } from '../storage/write-batch.js';

export interface UploadServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  uploads: UploadRepository;
  files: FileService;
  vault: BlobVault;
  stagingDir: string;
  sessionTtlMs: number;
}

export interface CreateUploadInput {
  folderId: string;
  fileId?: string | null | undefined;
  name: string;
  contentType: string;
  onConflict: OnConflict;
  length: number;
  zone: Zone;
  /** An outside party's upload through this request (only that link may continue it). */
  exchangeRequestId?: string | undefined;
}

export interface UploadState {
  id: string;
  offset: number;
  length: number;
  expiresAt: string;
  /** Set once the last byte is stored and the file recorded. */
  fileId: string | null;
}

/** Cipher position of a segment-aligned plaintext offset. */
function cipherPos(offset: number): number {
  return HEADER_BYTES + (offset / SEGMENT_PLAINTEXT_BYTES) * SEGMENT_CIPHERTEXT_BYTES;
}

export class UploadService {
  /** Whole-file hashes carried between PATCHes of a session handled by this process. */
  private readonly hashes = new Map<string, { offset: number; hash: Sha256Stream }>();
  /** Sessions with a PATCH in progress here (a second concurrent PATCH is refused). */
  private readonly busy = new Set<string>();

  constructor(private readonly deps: UploadServiceDeps) {}

  private stagingPath(tenantId: string, id: string): string {
    return join(this.deps.stagingDir, tenantId, `${id}.part`);
  }

  private state(row: UploadRow): UploadState {
    return { id: row.id, offset: row.offset, length: row.length, expiresAt: row.expires_at, fileId: row.result_file_id };
  }

  async create(actor: Actor, input: CreateUploadInput): Promise<UploadState> {
    const { name } = await this.deps.files.prepareUpload(actor, input);
    await this.deps.files.requireRoom(actor, input.length);
    const key = await this.deps.vault.newKey(actor.tenantId);
    const id = randomId();
    const now = this.deps.clock.now();
    const h = { salt: randomBytes(SALT_BYTES), noncePrefix: randomBytes(NONCE_PREFIX_BYTES) };
    let header = encodeHeader(h);
    // An empty file is complete at once: its blob is the header and the sealed, empty final segment.
    if (input.length === 0) {
      const segKey = segmentKey(key.dek, h.salt, { tenantId: actor.tenantId, blobId: key.blobId });
      header = Buffer.concat([header, sealSegment(segKey, h.noncePrefix, 0, true, Buffer.alloc(0))]);
      segKey.fill(0);
    }
    const path = this.stagingPath(actor.tenantId, id);
    await mkdir(join(this.deps.stagingDir, actor.tenantId), { recursive: true, mode: 0o700 });
    const fh = await open(path, 'wx', 0o600);
    try {
      await fh.write(header, 0, header.length, 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    key.dek.fill(0);
    const row: Omit<UploadRow, 'tenant_id'> = {
      id,
      user_id: userIdOf(actor),
      folder_id: input.folderId,
      file_id: input.fileId ?? null,
      name,
      content_type: input.contentType,
      on_conflict: input.onConflict,
      length: input.length,
      offset: 0,
      blob_id: key.blobId,
      kek_version: key.kekVersion,
      wrapped_dek: key.wrappedDek,
      zone: input.zone,
      state: 'open',
      result_file_id: null,
      exchange_request_id: input.exchangeRequestId ?? null,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      expires_at: new Date(now.getTime() + this.deps.sessionTtlMs).toISOString(),
    };
    await this.deps.uploads.insert(actor.tenantId, row);
    this.hashes.set(id, { offset: 0, hash: createSha256() });
    if (input.length === 0) return this.finish(actor, { ...row, tenant_id: actor.tenantId });
    return this.state({ ...row, tenant_id: actor.tenantId });
  }

  /** The session of this user (another user's or tenant's session is not found). */
  async get(actor: Actor, id: string): Promise<UploadState> {
    return this.state(await this.own(actor, id));
  }

  private async own(actor: Actor, id: string): Promise<UploadRow> {
    const row = await this.deps.uploads.find(actor.tenantId, id);
    if (
      !row ||
      row.user_id !== userIdOf(actor) ||
      (row.state === 'open' && row.expires_at < this.deps.clock.now().toISOString())
    ) {
      throw new AppError('upload.not_found');
    }
    // An outside party reaches only the sessions of its own request link; staff never reach those.
    const viaLink = row.exchange_request_id === null ? null : `request:${row.exchange_request_id}`;
    if ((actor.type === 'external' ? actor.id : null) !== viaLink) throw new AppError('upload.not_found');
    return row;
  }

  /**
   * Appends a PATCH body at `offset`. `checksum` is the raw SHA-256 the client sent for this body,
   * if any. Resolves with the new state once the stored offset is durable (and, at the end, the file
   * is recorded).
   */
  async append(actor: Actor, id: string, offset: number, body: Readable, checksum: Buffer | null): Promise<UploadState> {
    const row = await this.own(actor, id);
    if (row.state !== 'open') {
      if (offset === row.length) return this.state(row);
      throw new AppError('upload.offset_mismatch');
    }
    // Everything is staged but the file was never recorded (sessions from before the offset moved inside the commit).
    if (row.offset === row.length && offset === row.length) return this.finish(actor, row);
    if (offset !== row.offset) throw new AppError('upload.offset_mismatch', `${offset} ≠ ${row.offset}`);
    if (this.busy.has(id)) throw new AppError('upload.offset_mismatch', 'another request is writing this upload');
    this.busy.add(id);
    try {
      // A PATCH that starts just before the session's expiry keeps it alive while it runs.
      const now = this.deps.clock.now();
      const expiresAt = new Date(now.getTime() + this.deps.sessionTtlMs).toISOString();
      if (!(await this.deps.uploads.advance(row.tenant_id, id, row.offset, row.offset, now.toISOString(), expiresAt)))
        throw new AppError('upload.offset_mismatch', 'the upload moved on');
      return await this.write(actor, { ...row, expires_at: expiresAt }, body, checksum);
    } finally {
      this.busy.delete(id);
    }
  }

  private async write(actor: Actor, row: UploadRow, body: Readable, checksum: Buffer | null): Promise<UploadState> {
    const path = this.stagingPath(row.tenant_id, row.id);
    const fh = await open(path, 'r+').catch(() => {
      throw new AppError('upload.not_found', 'staging file missing');
    });
    const start = row.offset;
    let pos = start;
    let complete = true;
    const carried = this.hashes.get(row.id);
    const whole = carried && carried.offset === start ? carried.hash : null;
    this.hashes.delete(row.id);
    let writer: BatchWriter | null = null;
    try {
      const header = await readHeader(fh);
      const dek = await this.deps.vault.dek({
        tenant_id: row.tenant_id,
        id: row.blob_id,
        kek_version: row.kek_version,
        wrapped_dek: row.wrapped_dek,
      });
      const key = segmentKey(dek, header.salt, { tenantId: row.tenant_id, blobId: row.blob_id });
      dek.fill(0);
      // Anything past the durable offset (a crash mid-write) is garbage.
      await fh.truncate(cipherPos(start));
      const chunkHash = checksum ? createSha256() : null;
      // Sealed segments are written in batches (`BatchWriter`), not one write per segment, past the
      // page cache where the filesystem allows. Through the cache, the disk flush runs after every
      // batch (one at a time), so the fsync that acknowledges a short PATCH (8 MiB from the web UI)
      // has little left to write.
      const w = new BatchWriter(fh, cipherPos(start), 0, path);
      writer = w;
      let writeFailed = false;
      // Each chunk is fed straight to its segment's cipher (the file's length says which segment is
      // the last); a segment goes to the batch once complete, a partial one at the end is dropped.
      let cipher: ReturnType<typeof segmentCipher> | null = null;
      let pieces: Buffer[] = [];
      let sealed: Buffer[] = [];
      let filled = 0;
      try {
        for await (const chunk of body) {
          const buf = chunk as Buffer;
          if (pos + filled + buf.length > row.length) throw new AppError('upload.invalid', 'body runs past Upload-Length');
          chunkHash?.update(buf);
          let off = 0;
          while (off < buf.length) {
            const size = Math.min(SEGMENT_PLAINTEXT_BYTES, row.length - pos);
            cipher ??= segmentCipher(key, header.noncePrefix, pos / SEGMENT_PLAINTEXT_BYTES, pos + size === row.length);
            const piece = buf.subarray(off, off + Math.min(buf.length - off, size - filled));
            pieces.push(piece);
            sealed.push(cipher.update(piece));
            filled += piece.length;
            off += piece.length;
            if (filled < size) continue;
            cipher.final(); // always empty for GCM
            sealed.push(cipher.getAuthTag());
            // The segment counts (offset, whole-file hash) only once the writer holds all of it; a
            // write that fails fails the PATCH, and the offset stays where the disk is.
            try {
              for (const b of sealed) await w.write(b);
            } catch (err) {
              writeFailed = true;
              throw err;
            }
            for (const p of pieces) whole?.update(p);
            pos += filled;
            cipher = null;
            pieces = [];
            sealed = [];
            filled = 0;
          }
        }
      } catch (err) {
        if (err instanceof AppError || writeFailed) throw err;
        // The client went away mid-body: keep the complete segments unless the chunk had to be verified.
        complete = false;
        if (checksum) throw new AppError('upload.checksum_mismatch', 'incomplete chunk');
      }
      if (complete && checksum && !chunkHash!.digest().equals(checksum)) {
        throw new AppError('upload.checksum_mismatch');
      }
      await w.finish();
    } catch (err) {
      await writer?.abandon();
      await fh.truncate(cipherPos(start)).catch(() => {});
      throw err;
    } finally {
      await fh.close();
    }
    if (pos === row.length) {
      // The last byte is staged: the offset moves to the end only in the transaction that records the file,
      // so a crash or a refused commit leaves the session resumable from `start` (HEAD never claims a finished upload that was not saved).
      if (whole) this.hashes.set(row.id, { offset: pos, hash: whole });
      return this.finish(actor, { ...row, offset: pos });
    }
    const now = this.deps.clock.now();
    if (pos !== start) {
      const ok = await this.deps.uploads.advance(
        row.tenant_id,
        row.id,
        start,
        pos,
        now.toISOString(),
        new Date(now.getTime() + this.deps.sessionTtlMs).toISOString(),
      );
      if (!ok) throw new AppError('upload.offset_mismatch', 'the session moved on');
    }
    if (whole) this.hashes.set(row.id, { offset: pos, hash: whole });
    const next = { ...row, offset: pos };
    if (pos === row.length) return this.finish(actor, next);
    return this.state(next);
  }

  /** Moves the complete staged blob into the store and records the file; idempotent after a crash. */
  private async finish(actor: Actor, row: UploadRow): Promise<UploadState> {
    const path = this.stagingPath(row.tenant_id, row.id);
    const carried = this.hashes.get(row.id);
    this.hashes.delete(row.id);
    // Without the running hash (another process or a restart took the earlier chunks), decrypting
    // the staged blob both computes it and proves the staging file intact.
    const sha256 = carried && carried.offset === row.length ? carried.hash.digestHex() : await this.hashStaged(row, path);
    const key = blobKey(row.tenant_id, row.blob_id);
    const store = this.deps.vault.store;
    // A local store takes the staged file as it is (fsync + link); others get a stream of it.
    const put = async () => (store.adopt ? await store.adopt(key, path) : await store.put(key, createReadStream(path))).size;
    let cipherSize: number;
    try {
      cipherSize = await put();
    } catch (err) {
      if (!(err instanceof BlobExistsError)) throw err;
      // A previous attempt stored the blob but crashed before the row committed: nothing refers to it.
      await this.deps.vault.store.delete(key);
      cipherSize = await put();
    }
    const quotas = await this.deps.files.quotasOf(row.tenant_id);
    const fileId = await this.deps.database
      .transaction(async (trx) => {
        const now = this.deps.clock.now().toISOString();
        // The session must still be open: one the cleanup job collected is not recorded after all.
        if (!(await this.deps.uploads.complete(row.tenant_id, row.id, 'pending', now, trx, { fromOpen: true })))
          throw new AppError('upload.not_found', 'the upload session expired');
        // The data key as it is now: a KEK rotation's re-wrap may have moved it while the body
        // streamed in, and the version it was read under may since have been destroyed.
        const key = await this.deps.uploads.find(row.tenant_id, row.id, trx);
        if (!key) throw new AppError('upload.not_found', 'the upload session expired');
        const id = await this.deps.files.record(
          trx,
          actor,
          {
            folderId: row.folder_id,
            fileId: row.file_id,
            name: row.name,
            contentType: row.content_type,
            onConflict: row.on_conflict,
            zone: row.zone as Zone,
          },
          {
            blobId: row.blob_id,
            kekVersion: key.kek_version,
            wrappedDek: key.wrapped_dek,
            plainSize: row.length,
            cipherSize,
            sha256,
          },
          quotas,
        );
        await this.deps.uploads.complete(row.tenant_id, row.id, id, this.deps.clock.now().toISOString(), trx);
        return id;
      })
      .catch(async (err: unknown) => {
        await this.deps.vault.store.delete(key).catch(() => {});
        throw err;
      });
    this.deps.files.scanQueued();
    await rm(path, { force: true });
    return { id: row.id, offset: row.length, length: row.length, expiresAt: row.expires_at, fileId };
  }

  private async hashStaged(row: UploadRow, path: string): Promise<string> {
    const dek = await this.deps.vault.dek({
      tenant_id: row.tenant_id,
      id: row.blob_id,
      kek_version: row.kek_version,
      wrapped_dek: row.wrapped_dek,
    });
    const measure = new MeasureStream();
    await pipeline(
      createReadStream(path),
      createDecryptStream(dek, { tenantId: row.tenant_id, blobId: row.blob_id }),
      measure,
      discard(),
    );
    dek.fill(0);
    if (measure.bytes !== row.length) throw new AppError('upload.offset_mismatch', 'staged size differs');
    return measure.sha256();
  }

  /** tus termination: the session and its staged bytes go; a finished upload is not undone. */
  async terminate(actor: Actor, id: string): Promise<void> {
    const row = await this.own(actor, id);
    if (row.state !== 'open') throw new AppError('upload.not_found', 'already finished');
    await this.deps.database.transaction(async (trx) => {
      await this.deps.uploads.remove(actor.tenantId, id, trx);
      await this.deps.audit.append(trx, actor, {
        action: 'upload.cancelled',
        target: { type: 'upload', id },
        details: { name: row.name, folderId: row.folder_id, offset: row.offset, length: row.length },
      });
    });
    this.hashes.delete(id);
    await rm(this.stagingPath(actor.tenantId, id), { force: true });
  }

  /**
   * The cleanup job: expired sessions and their staged bytes, staging files no session owns (a
   * crash between creating the file and its row), old finished sessions, and the blob store's own
   * staging leftovers. Returns how many sessions expired.
   */
  async cleanup(): Promise<number> {
    const now = this.deps.clock.now();
    const completedBefore = new Date(now.getTime() - 86_400_000).toISOString();
    const expired = await this.deps.uploads.expired(now.toISOString(), completedBefore, 1000);
    let n = 0;
    for (const row of expired) {
      const removed = await this.deps.database.transaction(async (trx) => {
        if (!(await this.deps.uploads.removeIfStale(row.tenant_id, row, now.toISOString(), completedBefore, trx))) return false;
        if (row.state === 'open') {
          await this.deps.audit.append(trx, systemActor(row.tenant_id as TenantId, 'job:upload-cleanup'), {
            action: 'upload.expired',
            target: { type: 'upload', id: row.id },
            details: { userId: row.user_id, name: row.name, offset: row.offset, length: row.length },
          });
        }
        return true;
      });
      // A PATCH extended or finished the session since it was listed: its bytes are not ours to remove.
      if (!removed) continue;
      if (row.state === 'open') {
        n++;
        // A crash after the staged blob reached the store but before the commit leaves it there; nothing refers to it.
        await this.deps.vault.delete(row.tenant_id, row.blob_id).catch(() => {});
      }
      this.hashes.delete(row.id);
      await rm(this.stagingPath(row.tenant_id, row.id), { force: true });
    }
    const open = await this.deps.uploads.openIds();
    for (const tenant of await readdir(this.deps.stagingDir).catch(() => [] as string[])) {
      for (const name of await readdir(join(this.deps.stagingDir, tenant)).catch(() => [] as string[])) {
        const p = join(this.deps.stagingDir, tenant, name);
        const s = await stat(p).catch(() => null);
        if (s && !open.has(name.replace(/\.part$/, '')) && now.getTime() - s.mtimeMs > 3_600_000) await rm(p, { force: true });
      }
    }
    await this.deps.vault.store.collectStaging(3_600_000, now.getTime());
    await this.deps.files.collectOrphans(new Date(now.getTime() - 3_600_000).toISOString());
    return n;
  }
}

async function readHeader(fh: FileHandle) {
  const buf = Buffer.alloc(HEADER_BYTES);
  const { bytesRead } = await fh.read(buf, 0, HEADER_BYTES, 0);
  if (bytesRead !== HEADER_BYTES) throw new AppError('upload.not_found', 'staging header missing');
  return parseHeader(buf);
}
