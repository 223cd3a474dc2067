/**
 * Where encrypted blobs live (design §1): a local directory in the embedded mode, S3-compatible
 * object storage at scale, behind one interface. Keys are `<tenant id>/<blob id>` built from random
 * ids only, so no file name ever reaches a path or an object key. Stores see ciphertext only.
 */
import type { Readable } from 'node:stream';

export interface BlobStore {
  readonly description: string;
  /** Writes a new blob; resolves only when it is durable. Never overwrites an existing blob. */
  put(key: string, body: Readable): Promise<{ size: number }>;
  /**
   * Optional: takes a complete local file (ciphertext) as the blob without copying it (a hard link on
   * the same file system); the caller removes its own name afterwards. Same guarantees as `put`.
   */
  adopt?(key: string, path: string): Promise<{ size: number }>;
  /** Reads a blob, or the byte range [start, end) of it. */
  get(key: string, range?: { start: number; end: number }): Promise<Readable>;
  size(key: string): Promise<number>;
  exists(key: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  /** Throws unless the store can be written (readiness). */
  check(): Promise<void>;
  /**
   * Removes what writes interrupted by a crash left behind (staging files, unfinished multipart
   * uploads) once older than `olderThanMs`, so in-progress writes are never touched; returns how many.
   */
  collectStaging(olderThanMs: number, now?: number): Promise<number>;
}

export class BlobNotFoundError extends Error {
  constructor(key: string) {
    super(`blob ${key} not found`);
    this.name = 'BlobNotFoundError';
  }
}

export class BlobExistsError extends Error {
  constructor(key: string) {
    super(`blob ${key} already exists`);
    this.name = 'BlobExistsError';
  }
}

const ID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const KEY = new RegExp(`^(${ID})/(${ID})$`);

/** Builds and checks a blob key; anything but two UUIDs is refused (no path can be smuggled in). */
export function blobKey(tenantId: string, blobId: string): string {
  return assertBlobKey(`${tenantId}/${blobId}`);
}

export function assertBlobKey(key: string): string {
  if (!KEY.test(key)) throw new Error('invalid blob key');
  return key;
}
