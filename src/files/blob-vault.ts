/**
 * Encrypted blobs (ENC-01, ENC-03): every file version's bytes go through SHA-256 and the segmented
 * AES-256-GCM format (design §5) into the blob store under a random id, with a fresh DEK wrapped by
 * the tenant's active KEK. Reads decrypt the whole blob or only the segments a range touches.
 * Nothing here ever writes plaintext anywhere.
 */
import { Transform, Writable, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Transaction } from 'kysely';
import { AppError } from '../core/errors.js';
import {
  AEAD_KEY_BYTES,
  createDecryptStream,
  createEncryptStream,
  createRangeDecryptStream,
  createSha256,
  HEADER_BYTES,
  parseHeader,
  planRange,
  randomBytes,
  randomId,
  type TenantKeyring,
} from '../crypto/index.js';
import type { DB } from '../db/schema.js';
import { blobKey, type BlobStore } from '../storage/blob-store.js';
import type { BlobRow } from './file.repository.js';

export interface StoredBlob {
  blobId: string;
  kekVersion: number;
  wrappedDek: Buffer;
  plainSize: number;
  cipherSize: number;
  sha256: string;
}

export interface NewBlobKey {
  blobId: string;
  dek: Buffer;
  kekVersion: number;
  wrappedDek: Buffer;
}

/** Counts and hashes what flows through; fails once more than `limit` bytes arrive. */
export class MeasureStream extends Transform {
  bytes = 0;
  private readonly hash = createSha256();
  private digestValue: string | undefined;

  constructor(private readonly limit = Number.POSITIVE_INFINITY) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    if (this.bytes > this.limit) return cb(new AppError('upload.too_large', `more than ${this.limit} bytes`));
    this.hash.update(chunk);
    cb(null, chunk);
  }

  /** Hex SHA-256 of everything that passed; call once the stream has finished. */
  sha256(): string {
    this.digestValue ??= this.hash.digestHex();
    return this.digestValue;
  }
}

export interface BlobVaultDeps {
  store: BlobStore;
  keyring: TenantKeyring<Transaction<DB>>;
}

/** What a whole read must produce: the stream fails with IntegrityError otherwise (TLS-02). */
export interface ExpectedPlaintext {
  sha256: string;
  size: number;
}

export class BlobVault {
  constructor(private readonly deps: BlobVaultDeps) {}

  get store(): BlobStore {
    return this.deps.store;
  }

  /** A new blob id (or the given one) with a fresh DEK wrapped under the tenant's active KEK. */
  async newKey(tenantId: string, blobId: string = randomId()): Promise<NewBlobKey> {
    const dek = randomBytes(AEAD_KEY_BYTES);
    const { kekVersion, wrappedDek } = await this.deps.keyring.wrapDek(tenantId, dek, blobId);
    return { blobId, dek, kekVersion, wrappedDek };
  }

  /**
   * Encrypts `body` into a new durable blob; throws `upload.too_large` past `limit` (the blob is then
   * removed). `beforeWrite` learns the blob id before any byte is stored (to record an intent).
   */
  async write(
    tenantId: string,
    body: Readable,
    limit = Number.POSITIVE_INFINITY,
    beforeWrite?: (blobId: string) => Promise<void>,
  ): Promise<StoredBlob> {
    // The intent is recorded before the data key is wrapped: a write that wrapped its key under a
    // KEK version always has an intent from before that version was rotated out (keys.destroy).
    const blobId = randomId();
    await beforeWrite?.(blobId);
    const key = await this.newKey(tenantId, blobId);
    const measure = new MeasureStream(limit);
    const encrypt = createEncryptStream(key.dek, { tenantId, blobId: key.blobId });
    const storeKey = blobKey(tenantId, key.blobId);
    try {
      // Either side failing stops the other, so no body is left half-read.
      const stop = (err: unknown) => {
        encrypt.destroy(err as Error);
        throw err;
      };
      const [piped, put] = await Promise.allSettled([
        pipeline(body, measure, encrypt).catch(stop),
        this.deps.store.put(storeKey, encrypt).catch(stop),
      ]);
      // Report the cause: when the store fails, the pipeline fails only with an abort.
      if (piped.status === 'rejected' && (put.status === 'fulfilled' || !isAbort(piped.reason))) throw piped.reason;
      if (put.status === 'rejected') throw put.reason;
      const stored = put.value;
      return {
        blobId: key.blobId,
        kekVersion: key.kekVersion,
        wrappedDek: key.wrappedDek,
        plainSize: measure.bytes,
        cipherSize: stored.size,
        sha256: measure.sha256(),
      };
    } catch (err) {
      await this.deps.store.delete(storeKey).catch(() => {});
      throw err;
    } finally {
      key.dek.fill(0);
    }
  }

  async dek(blob: Pick<BlobRow, 'tenant_id' | 'id' | 'kek_version' | 'wrapped_dek'>): Promise<Buffer> {
    return this.deps.keyring.unwrapDek(blob.tenant_id, blob.kek_version, blob.wrapped_dek, blob.id);
  }

  /**
   * The whole plaintext as a stream (authenticated segment by segment: DecryptError otherwise). With
   * `verify` (a download) it also fails with IntegrityError, before its last bytes, when size or
   * SHA-256 differ from the record.
   */
  async open(blob: BlobRow, opts: { verify?: ExpectedPlaintext } = {}): Promise<Readable> {
    const dek = await this.dek(blob);
    const source = await this.deps.store.get(blobKey(blob.tenant_id, blob.id));
    const decrypt = createDecryptStream(dek, { tenantId: blob.tenant_id, blobId: blob.id });
    source.on('error', (err) => decrypt.destroy(err));
    // A reader that stops early (type detection, a scanner that answered) must not leave the file open.
    decrypt.once('close', () => source.destroy());
    const plain = source.pipe(decrypt);
    if (!opts.verify) return plain;
    const check = new VerifyStream(opts.verify);
    decrypt.on('error', (err) => check.destroy(err));
    check.once('close', () => decrypt.destroy());
    return plain.pipe(check);
  }

  /** Plaintext bytes [start, end] (inclusive), decrypting only the segments they touch. */
  async openRange(blob: BlobRow, start: number, end: number): Promise<Readable> {
    const dek = await this.dek(blob);
    const key = blobKey(blob.tenant_id, blob.id);
    const headerBytes = await readAll(await this.deps.store.get(key, { start: 0, end: HEADER_BYTES }));
    const header = parseHeader(headerBytes);
    const plan = planRange(blob.cipher_size, start, end);
    const source = await this.deps.store.get(key, { start: plan.cipherStart, end: plan.cipherEnd });
    const decrypt = createRangeDecryptStream(dek, { tenantId: blob.tenant_id, blobId: blob.id }, header, plan);
    source.on('error', (err) => decrypt.destroy(err));
    decrypt.once('close', () => source.destroy());
    return source.pipe(decrypt);
  }

  /**
   * Decrypts the whole blob and compares its size and SHA-256 with the record (the scrubber, TLS-02).
   * `unreadable`: the store failed to read it (I/O, network), which proves no damage.
   */
  async verify(blob: BlobRow): Promise<{ ok: true } | { ok: false; reason: string; unreadable?: true }> {
    try {
      const measure = new MeasureStream();
      await pipeline(await this.open(blob), measure, discard());
      if (measure.bytes !== blob.plain_size) return { ok: false, reason: `size ${measure.bytes} ≠ ${blob.plain_size}` };
      if (measure.sha256() !== blob.sha256) return { ok: false, reason: 'sha256 mismatch' };
      return { ok: true };
    } catch (err) {
      const reason = (err as Error).name === 'BlobNotFoundError' ? 'missing' : (err as Error).message.slice(0, 200);
      return isIntegrityFailure(err) ? { ok: false, reason } : { ok: false, reason, unreadable: true };
    }
  }

  async delete(tenantId: string, blobId: string): Promise<void> {
    await this.deps.store.delete(blobKey(tenantId, blobId));
  }
}

/**
 * A blob's plaintext did not match the record's size or SHA-256 (TLS-02). A download that fails so
 * before its first byte answers 500 `file.integrity_failed` (as a DecryptError does, error-handler.ts).
 */
export class IntegrityError extends AppError {
  constructor(reason: string) {
    super('file.integrity_failed', reason);
    this.name = 'IntegrityError';
    this.message = reason;
  }
}

/**
 * Passes bytes through and fails at the end unless their count and SHA-256 match the record. The
 * last chunk is held back until both are checked, so a mismatching download never arrives whole:
 * the client sees a body shorter than its Content-Length and the connection reset.
 */
class VerifyStream extends Transform {
  private readonly hash = createSha256();
  private bytes = 0;
  private held: Buffer | null = null;
  constructor(private readonly expected: ExpectedPlaintext) {
    super();
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.bytes += chunk.length;
    this.hash.update(chunk);
    const previous = this.held;
    this.held = chunk;
    cb(null, previous ?? undefined);
  }
  override _flush(cb: TransformCallback): void {
    const { size, sha256 } = this.expected;
    if (this.bytes !== size) return cb(new IntegrityError(`size ${this.bytes} ≠ ${size}`));
    if (this.hash.digestHex() !== sha256) return cb(new IntegrityError('sha256 mismatch'));
    cb(null, this.held ?? undefined);
  }
}

/**
 * Whether an error proves a blob damaged or gone (a segment failing authentication, a plaintext not
 * as recorded, a missing blob), as opposed to a store that failed to read it (I/O, network), which
 * may pass and must not mark a file damaged for good.
 */
export function isIntegrityFailure(err: unknown): boolean {
  const name = (err as Error | null)?.name;
  return name === 'DecryptError' || name === 'IntegrityError' || name === 'BlobNotFoundError';
}

/** The error a stream fails with when another one it was piped with stopped it. */
export function isAbort(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return e?.name === 'AbortError' || e?.code === 'ERR_STREAM_PREMATURE_CLOSE';
}

/** A sink that drops what it is given (to read a stream through for its hash). */
export function discard(): Writable {
  return new Writable({
    write(_chunk, _enc, cb) {
      cb();
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
