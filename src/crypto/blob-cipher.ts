/**
 * The blob encryption format (design §5, ENC-01), modelled on Tink's AES-GCM-HKDF streaming AEAD:
 *
 *   header  = "KURA" ‖ version (1 byte, = 1) ‖ header length (1 byte, = 45) ‖ salt (32) ‖ nonce prefix (7)
 *   segment = AES-256-GCM(segment key, nonce = prefix ‖ uint32 BE index ‖ last flag (0x00 | 0x01),
 *                         plaintext of 64 KiB, the last one 0–64 KiB) ‖ tag (16)
 *   segment key = HKDF-SHA256(DEK, salt, info = "kura-blob-v1" 0x00 tenant id 0x00 blob id, 32 bytes)
 *
 * Segment i starts at byte 45 + i × (65,536 + 16), so a range read decrypts only the segments it
 * touches. Truncation (the last-segment flag), reordering (the index in the nonce), splicing between
 * blobs (key bound to tenant and blob, salt per blob) and any bit flip fail authentication.
 * Encryption and decryption stream with constant memory (about one segment buffered).
 */
import { createCipheriv, createDecipheriv, type CipherGCM } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { AEAD_TAG_BYTES, DecryptError, hkdfSha256, randomBytes } from './primitives.js';

export const BLOB_MAGIC = Buffer.from('KURA', 'ascii');
export const BLOB_FORMAT_VERSION = 1;
export const SEGMENT_PLAINTEXT_BYTES = 64 * 1024;
export const SEGMENT_CIPHERTEXT_BYTES = SEGMENT_PLAINTEXT_BYTES + AEAD_TAG_BYTES;
export const SALT_BYTES = 32;
export const NONCE_PREFIX_BYTES = 7;
export const HEADER_BYTES = BLOB_MAGIC.length + 1 + 1 + SALT_BYTES + NONCE_PREFIX_BYTES;

export interface BlobContext {
  tenantId: string;
  blobId: string;
}

export interface BlobHeader {
  salt: Buffer;
  noncePrefix: Buffer;
}

export function segmentKey(dek: Buffer, salt: Buffer, ctx: BlobContext): Buffer {
  const info = Buffer.concat([
    Buffer.from('kura-blob-v1'),
    Buffer.from([0]),
    Buffer.from(ctx.tenantId),
    Buffer.from([0]),
    Buffer.from(ctx.blobId),
  ]);
  return hkdfSha256(dek, salt, info, 32);
}

function nonce(prefix: Buffer, index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  prefix.copy(n, 0);
  n.writeUInt32BE(index, NONCE_PREFIX_BYTES);
  n[11] = last ? 1 : 0;
  return n;
}

export function encodeHeader(h: BlobHeader): Buffer {
  return Buffer.concat([BLOB_MAGIC, Buffer.from([BLOB_FORMAT_VERSION, HEADER_BYTES]), h.salt, h.noncePrefix]);
}

export function parseHeader(buf: Buffer): BlobHeader {
  if (buf.length < HEADER_BYTES || !buf.subarray(0, 4).equals(BLOB_MAGIC)) throw new DecryptError('not a Kura blob');
  if (buf[4] !== BLOB_FORMAT_VERSION || buf[5] !== HEADER_BYTES) throw new DecryptError('unsupported blob format version');
  return {
    salt: Buffer.from(buf.subarray(6, 6 + SALT_BYTES)),
    noncePrefix: Buffer.from(buf.subarray(6 + SALT_BYTES, HEADER_BYTES)),
  };
}

/** The AES-256-GCM cipher of segment `index` (fed piece by piece; `final()` then `getAuthTag()`). */
export function segmentCipher(key: Buffer, prefix: Buffer, index: number, last: boolean): CipherGCM {
  return createCipheriv('aes-256-gcm', key, nonce(prefix, index, last), { authTagLength: AEAD_TAG_BYTES });
}

export function sealSegment(key: Buffer, prefix: Buffer, index: number, last: boolean, plaintext: Buffer): Buffer {
  const c = segmentCipher(key, prefix, index, last);
  return Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]);
}

export function openSegment(key: Buffer, prefix: Buffer, index: number, last: boolean, sealed: Buffer): Buffer {
  if (sealed.length < AEAD_TAG_BYTES) throw new DecryptError(`segment ${index} is truncated`);
  const d = createDecipheriv('aes-256-gcm', key, nonce(prefix, index, last), { authTagLength: AEAD_TAG_BYTES });
  d.setAuthTag(sealed.subarray(sealed.length - AEAD_TAG_BYTES));
  try {
    const plain = d.update(sealed.subarray(0, sealed.length - AEAD_TAG_BYTES));
    const rest = d.final(); // always empty for GCM; checks the tag
    return rest.length ? Buffer.concat([plain, rest]) : plain;
  } catch {
    throw new DecryptError(`segment ${index} failed authentication`);
  }
}

/** Size of the ciphertext for a plaintext of `n` bytes. */
export function ciphertextSize(n: number): number {
  const segments = Math.max(1, Math.ceil(n / SEGMENT_PLAINTEXT_BYTES));
  return HEADER_BYTES + n + segments * AEAD_TAG_BYTES;
}

/** Size of the plaintext inside a ciphertext of `c` bytes; throws for an impossible size. */
export function plaintextSize(c: number): number {
  const body = c - HEADER_BYTES;
  if (body < AEAD_TAG_BYTES) throw new DecryptError('ciphertext too short');
  const full = Math.floor(body / SEGMENT_CIPHERTEXT_BYTES);
  const rest = body - full * SEGMENT_CIPHERTEXT_BYTES;
  if (rest === 0) return full * SEGMENT_PLAINTEXT_BYTES;
  if (rest < AEAD_TAG_BYTES) throw new DecryptError('ciphertext has an impossible size');
  return full * SEGMENT_PLAINTEXT_BYTES + rest - AEAD_TAG_BYTES;
}

/** Collects chunks and hands out exact-size slices without re-concatenating everything. */
class ChunkQueue {
  private chunks: Buffer[] = [];
  length = 0;
  push(b: Buffer): void {
    if (b.length) {
      this.chunks.push(b);
      this.length += b.length;
    }
  }
  take(n: number): Buffer {
    const head = this.chunks[0];
    // The common case (big reads): the bytes sit in one chunk, so hand out a view instead of a copy.
    if (head && head.length >= n) {
      this.chunks[0] = head.subarray(n);
      if (this.chunks[0].length === 0) this.chunks.shift();
      this.length -= n;
      return head.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const head = this.chunks[0]!;
      const k = Math.min(head.length, n - off);
      head.copy(out, off, 0, k);
      off += k;
      if (k === head.length) this.chunks.shift();
      else this.chunks[0] = head.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

/**
 * A Transform that encrypts plaintext into the blob format; `header` may be fixed for test vectors.
 * Chunks are fed to the segment's cipher as they arrive (no reassembly copies). Whether a segment is
 * the last one is known only at the end of the input, so each segment's output is held back until a
 * further byte arrives; at the end the held (or partial) segment is sealed again with the last flag.
 */
export function createEncryptStream(dek: Buffer, ctx: BlobContext, header?: BlobHeader): Transform {
  const h = header ?? { salt: randomBytes(SALT_BYTES), noncePrefix: randomBytes(NONCE_PREFIX_BYTES) };
  const key = segmentKey(dek, h.salt, ctx);
  let index = 0;
  let started = false;
  let cipher: CipherGCM | null = null;
  /** The current segment: its plaintext pieces (views, to seal it again as the last) and its output. */
  let pieces: Buffer[] = [];
  let filled = 0;
  let out: Buffer[] = [];
  /** A complete segment's output, waiting to learn that it is not the last. */
  let held: Buffer[] | null = null;
  const start = (t: Transform) => {
    if (!started) {
      started = true;
      t.push(encodeHeader(h));
    }
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      start(this);
      let off = 0;
      while (off < chunk.length) {
        if (held) {
          for (const b of held) this.push(b);
          held = null;
          pieces = [];
          index++;
        }
        cipher ??= segmentCipher(key, h.noncePrefix, index, false);
        const piece = chunk.subarray(off, off + Math.min(chunk.length - off, SEGMENT_PLAINTEXT_BYTES - filled));
        pieces.push(piece);
        out.push(cipher.update(piece));
        filled += piece.length;
        off += piece.length;
        if (filled === SEGMENT_PLAINTEXT_BYTES) {
          cipher.final(); // always empty for GCM
          out.push(cipher.getAuthTag());
          held = out;
          out = [];
          filled = 0;
          cipher = null;
        }
      }
      cb();
    },
    flush(cb: TransformCallback) {
      start(this);
      const plain = pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
      this.push(sealSegment(key, h.noncePrefix, index, true, plain));
      cb();
    },
  });
}

/** A Transform that decrypts a whole blob; fails on any tampering, truncation or extension. */
export function createDecryptStream(dek: Buffer, ctx: BlobContext): Transform {
  const queue = new ChunkQueue();
  let key: Buffer | null = null;
  let prefix: Buffer | null = null;
  let index = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      queue.push(chunk);
      try {
        if (!key) {
          if (queue.length < HEADER_BYTES) return cb();
          const h = parseHeader(queue.take(HEADER_BYTES));
          key = segmentKey(dek, h.salt, ctx);
          prefix = h.noncePrefix;
        }
        while (queue.length > SEGMENT_CIPHERTEXT_BYTES)
          this.push(openSegment(key, prefix!, index++, false, queue.take(SEGMENT_CIPHERTEXT_BYTES)));
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (!key) throw new DecryptError('blob header is truncated');
        this.push(openSegment(key, prefix!, index++, true, queue.take(queue.length)));
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}

export interface RangePlan {
  /** Byte range of ciphertext to read (inclusive start, exclusive end). */
  cipherStart: number;
  cipherEnd: number;
  firstSegment: number;
  lastSegment: number;
  /** Whether `lastSegment` is the blob's final segment. */
  lastIsFinal: boolean;
  /** Plaintext bytes to drop from the first decrypted segment and to keep in total. */
  skip: number;
  length: number;
}

/** Which ciphertext bytes a plaintext range [start, end] (inclusive) needs: only the segments it touches. */
export function planRange(cipherSize: number, start: number, end: number): RangePlan {
  const total = plaintextSize(cipherSize);
  if (start < 0 || end < start || end >= total) throw new RangeError('range outside the plaintext');
  const segments = Math.max(1, Math.ceil(total / SEGMENT_PLAINTEXT_BYTES));
  const firstSegment = Math.floor(start / SEGMENT_PLAINTEXT_BYTES);
  const lastSegment = Math.floor(end / SEGMENT_PLAINTEXT_BYTES);
  const cipherStart = HEADER_BYTES + firstSegment * SEGMENT_CIPHERTEXT_BYTES;
  const cipherEnd = Math.min(cipherSize, HEADER_BYTES + (lastSegment + 1) * SEGMENT_CIPHERTEXT_BYTES);
  return {
    cipherStart,
    cipherEnd,
    firstSegment,
    lastSegment,
    lastIsFinal: lastSegment === segments - 1,
    skip: start - firstSegment * SEGMENT_PLAINTEXT_BYTES,
    length: end - start + 1,
  };
}

/**
 * Decrypts the ciphertext bytes of a `planRange` plan (fed in order) and emits exactly the
 * requested plaintext. The header (first 45 bytes of the blob) must be read separately.
 */
export function createRangeDecryptStream(dek: Buffer, ctx: BlobContext, header: BlobHeader, plan: RangePlan): Transform {
  const key = segmentKey(dek, header.salt, ctx);
  const queue = new ChunkQueue();
  let index = plan.firstSegment;
  let skip = plan.skip;
  let remaining = plan.length;
  const emit = (t: Transform, plain: Buffer) => {
    const part = plain.subarray(skip, skip + remaining);
    skip = 0;
    remaining -= part.length;
    if (part.length) t.push(part);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      queue.push(chunk);
      try {
        while (
          queue.length > SEGMENT_CIPHERTEXT_BYTES ||
          (queue.length === SEGMENT_CIPHERTEXT_BYTES && index < plan.lastSegment)
        ) {
          emit(this, openSegment(key, header.noncePrefix, index++, false, queue.take(SEGMENT_CIPHERTEXT_BYTES)));
        }
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        if (index !== plan.lastSegment) throw new DecryptError('range ciphertext is truncated');
        emit(this, openSegment(key, header.noncePrefix, index++, plan.lastIsFinal, queue.take(queue.length)));
        if (remaining !== 0) throw new DecryptError('range ciphertext is truncated');
        cb();
      } catch (err) {
        cb(err as Error);
      }
    },
  });
}
