/**
 * The S3-compatible blob store (scale-out mode: AWS S3 in a Japanese region, Ceph RGW, MinIO, …).
 * Bodies stream through multipart uploads with bounded memory (a few parts in flight); an object
 * appears under its key only when the upload completes, so a failed or interrupted upload never
 * leaves a partial blob, only an unfinished multipart upload that `collectStaging` aborts later.
 */
import { pipeline, Transform, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { assertBlobKey, BlobExistsError, BlobNotFoundError, type BlobStore } from './blob-store.js';

export interface S3BlobStoreOptions {
  endpoint: string;
  region: string;
  bucket: string;
  /** Prepended to every blob key: '' or lower-case segments ending in '/'. */
  prefix: string;
  /** Path-style URLs (`endpoint/bucket/key`), needed by Ceph RGW and MinIO without wildcard DNS. */
  forcePathStyle: boolean;
  accessKeyId: string;
  secretAccessKey: string;
  /** Multipart part size; S3 refuses parts under 5 MiB (except the last). */
  partBytes: number;
}

/** S3's smallest allowed part (all but the last part of a multipart upload). */
const MIN_PART_BYTES = 5 * 1024 * 1024;
/** Parts in flight per upload: memory per upload is about (this + 1) × partBytes. */
const PARTS_IN_FLIGHT = 2;
/** Fail fast when the endpoint does not accept connections (readiness, outages). */
const CONNECT_TIMEOUT_MS = 5_000;

/** A multipart upload started longer ago than this is abandoned (see `collectStaging`). */
export const MULTIPART_ABANDONED_MS = 24 * 3_600_000;

export class S3BlobStore implements BlobStore {
  readonly description: string;
  // Private fields: the client (and the credentials inside it) never shows in logs or inspection.
  readonly #client: S3Client;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #partBytes: number;

  constructor(options: S3BlobStoreOptions) {
    if (options.partBytes < MIN_PART_BYTES) throw new RangeError(`partBytes must be at least ${MIN_PART_BYTES}`);
    if (!/^([a-z0-9-]+\/)*$/.test(options.prefix)) throw new Error('invalid S3 key prefix');
    this.#bucket = options.bucket;
    this.#prefix = options.prefix;
    this.#partBytes = options.partBytes;
    this.#client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // Checksums the SDK adds by default (CRC32 trailers) break streamed uploads on non-AWS servers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS },
    });
    this.description = `S3 ${options.endpoint} bucket ${options.bucket} prefix '${options.prefix}'`;
  }

  private objectKey(key: string): string {
    return this.#prefix + assertBlobKey(key);
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    const Key = this.objectKey(key);
    try {
      // The upload's If-None-Match makes the refusal atomic where the server honours it on the final
      // request; this check also covers servers that ignore it there (Ceph RGW 16, Debian 12's, ignores
      // it on CompleteMultipartUpload) and saves uploading a body that would be refused anyway.
      if (await this.exists(key)) throw new BlobExistsError(key);
      let size = 0;
      // pipeline() forwards a source error to the upload (which then aborts), never a silent end.
      const counted = pipeline(
        body,
        new Transform({
          transform(chunk: Buffer, _enc, done) {
            size += chunk.length;
            done(null, chunk);
          },
        }),
        () => {},
      );
      const upload = new Upload({
        client: this.#client,
        params: { Bucket: this.#bucket, Key, Body: counted, IfNoneMatch: '*' },
        partSize: this.#partBytes,
        queueSize: PARTS_IN_FLIGHT,
        leavePartsOnError: false,
      });
      try {
        await upload.done();
      } catch (err) {
        if (isStatus(err, 412)) throw new BlobExistsError(key);
        throw err;
      }
      return { size };
    } catch (err) {
      body.destroy();
      throw err;
    }
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const Key = this.objectKey(key);
    if (range && range.end <= range.start) throw new RangeError('empty range');
    try {
      const res = await this.#client.send(
        new GetObjectCommand({
          Bucket: this.#bucket,
          Key,
          ...(range ? { Range: `bytes=${range.start}-${range.end - 1}` } : {}),
        }),
      );
      // In Node the SDK's body is the HTTP response itself, a Readable.
      return res.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async size(key: string): Promise<number> {
    const Key = this.objectKey(key);
    try {
      const res = await this.#client.send(new HeadObjectCommand({ Bucket: this.#bucket, Key }));
      return res.ContentLength ?? 0;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
  }

  async exists(key: string): Promise<boolean> {
    return this.size(key).then(
      () => true,
      (err: unknown) => {
        if (err instanceof BlobNotFoundError) return false;
        throw err;
      },
    );
  }

  async delete(key: string): Promise<void> {
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.#bucket, Key: this.objectKey(key) }));
  }

  async check(): Promise<void> {
    await this.#client.send(new HeadBucketCommand({ Bucket: this.#bucket }));
  }

  /**
   * Aborts multipart uploads under the prefix initiated more than `olderThanMs` ago (left by a
   * crash or a failed abort mid-upload; their parts are stored and billed until aborted); returns
   * how many.
   */
  async collectStaging(olderThanMs: number, now = Date.now()): Promise<number> {
    // `Initiated` is when a multipart upload began, not its last activity: a large file on a slow
    // link (this process's or another instance's) may still be sending parts hours later. Only
    // uploads older than a day are taken for abandoned.
    const minAge = Math.max(olderThanMs, MULTIPART_ABANDONED_MS);
    let n = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.#client.send(
        new ListMultipartUploadsCommand({ Bucket: this.#bucket, Prefix: this.#prefix, KeyMarker, UploadIdMarker }),
      );
      for (const u of page.Uploads ?? []) {
        if (!u.Key?.startsWith(this.#prefix) || !u.UploadId || !u.Initiated) continue;
        if (now - u.Initiated.getTime() <= minAge) continue;
        try {
          await this.#client.send(new AbortMultipartUploadCommand({ Bucket: this.#bucket, Key: u.Key, UploadId: u.UploadId }));
          n++;
        } catch (err) {
          // Completed or aborted by someone else since the listing.
          if (!isStatus(err, 404)) throw err;
        }
      }
      if (!page.IsTruncated) return n;
      KeyMarker = page.NextKeyMarker;
      UploadIdMarker = page.NextUploadIdMarker;
    }
  }
}

/** A missing object (a missing bucket is an outage, not a missing blob). */
function isNotFound(err: unknown): boolean {
  return isStatus(err, 404) && (err as Error).name !== 'NoSuchBucket';
}

function isStatus(err: unknown, status: number): boolean {
  return err instanceof S3ServiceException && err.$metadata.httpStatusCode === status;
}
