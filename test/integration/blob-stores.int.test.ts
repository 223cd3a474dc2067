/**
 * One contract for every BlobStore: the same cases run against the local directory store and the
 * S3 store on a real Ceph RGW (test/services/rgw.sh). Blob stores do not touch the database, so the
 * suite runs in the int-sqlite project only.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { inspect } from 'node:util';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../../src/crypto/primitives.js';
import { BlobExistsError, BlobNotFoundError, blobKey, type BlobStore } from '../../src/storage/blob-store.js';
import { FsBlobStore } from '../../src/storage/fs-blob-store.js';
import { MULTIPART_ABANDONED_MS, S3BlobStore, type S3BlobStoreOptions } from '../../src/storage/s3-blob-store.js';
import { s3KeysUnder, TEST_S3_PART_BYTES, testS3Options, uniqueS3Prefix } from '../support/s3.js';

const MiB = 1024 * 1024;
const key = () => blobKey(randomId(), randomId());

/** A store under test plus the store-specific ways to see and fake what interrupted writes leave. */
interface StoreFixture {
  store: BlobStore;
  /** Staging leftovers currently present (staging files, unfinished multipart uploads). */
  leftovers(): Promise<number>;
  /** Leaves what a process killed mid-write would leave. */
  leaveLeftover(): Promise<void>;
  /** A store of the same kind that cannot work (unreachable, unwritable). */
  broken(): BlobStore;
  cleanup(): Promise<void>;
}

function fsFixture(): StoreFixture {
  const root = mkdtempSync(join(tmpdir(), 'kura-blob-contract-'));
  const staging = join(root, '.staging');
  return {
    store: new FsBlobStore(root),
    leftovers: async () => (existsSync(staging) ? readdirSync(staging).length : 0),
    leaveLeftover: async () => {
      mkdirSync(staging, { recursive: true });
      writeFileSync(join(staging, `${randomId()}.tmp`), randomBytes(1000));
    },
    // Below a regular file (ENOTDIR); root may write anywhere else. (Not under /proc: a recursive
    // mkdir there loops forever on Node 20, as procfs answers ENOENT for every create.)
    broken: () => {
      writeFileSync(join(root, 'not-a-dir'), '');
      return new FsBlobStore(join(root, 'not-a-dir', 'blobs'));
    },
    cleanup: async () => rmSync(root, { recursive: true, force: true }),
  };
}

function s3Fixture(options: S3BlobStoreOptions): StoreFixture {
  const s3 = new S3Client({
    endpoint: options.endpoint,
    region: options.region,
    forcePathStyle: true,
    credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const uploads = async () =>
    (await s3.send(new ListMultipartUploadsCommand({ Bucket: options.bucket, Prefix: options.prefix }))).Uploads ?? [];
  return {
    store: new S3BlobStore(options),
    leftovers: async () => (await uploads()).length,
    leaveLeftover: async () => {
      const Key = options.prefix + key();
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: options.bucket, Key }));
      await s3.send(new UploadPartCommand({ Bucket: options.bucket, Key, UploadId, PartNumber: 1, Body: randomBytes(1000) }));
    },
    broken: () => new S3BlobStore({ ...options, endpoint: 'http://127.0.0.1:1' }),
    cleanup: async () => {
      for (const u of await uploads()) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: options.bucket, Key: u.Key, UploadId: u.UploadId }));
      }
      for (const Key of await s3KeysUnder(options.prefix)) {
        await s3.send(new DeleteObjectCommand({ Bucket: options.bucket, Key }));
      }
      s3.destroy();
    },
  };
}

/** `data` as a stream of uneven chunks, as a network body arrives. */
function chunked(data: Buffer, sizes = [1, 4096, 65_536, 1_000_003]): Readable {
  return Readable.from(
    (function* () {
      for (let at = 0, i = 0; at < data.length; i++) {
        const n = sizes[i % sizes.length]!;
        yield data.subarray(at, at + n);
        at += n;
      }
    })(),
  );
}

/** A body that sends `bytes` and then fails, as a client that goes away mid-upload. */
function failingAfter(bytes: number): Readable {
  let sent = 0;
  return new Readable({
    read() {
      if (sent >= bytes) {
        this.destroy(new Error('client went away'));
        return;
      }
      const n = Math.min(256 * 1024, bytes - sent);
      sent += n;
      this.push(randomBytes(n));
    },
  });
}

function contract(make: () => StoreFixture): void {
  let f: StoreFixture;
  let store: BlobStore;
  // Larger than two parts, not a multiple of the part size: the S3 store takes the multipart path.
  const big = randomBytes(2 * TEST_S3_PART_BYTES + 123_457);
  const bigKey = key();
  let bigPut: { size: number };

  beforeAll(async () => {
    f = make();
    store = f.store;
    await store.check();
    bigPut = await store.put(bigKey, chunked(big));
  });
  afterAll(async () => {
    await f?.cleanup();
  });

  it('streams a multi-part blob in and reads it back whole', async () => {
    expect(bigPut).toEqual({ size: big.length });
    expect((await buffer(await store.get(bigKey))).equals(big)).toBe(true);
  });

  it('reads byte ranges at the start, across a part boundary and at the end', async () => {
    const ranges = [
      { start: 0, end: 1 },
      { start: 0, end: 65_536 },
      { start: TEST_S3_PART_BYTES - 10, end: TEST_S3_PART_BYTES + 10 },
      { start: 3 * MiB + 7, end: 8 * MiB + 11 },
      { start: big.length - 17, end: big.length },
      { start: big.length - 1, end: big.length },
    ];
    for (const r of ranges) {
      const got = await buffer(await store.get(bigKey, r));
      expect(got.length, `range ${r.start}-${r.end}`).toBe(r.end - r.start);
      expect(got.equals(big.subarray(r.start, r.end)), `range ${r.start}-${r.end}`).toBe(true);
    }
    await expect(store.get(bigKey, { start: 10, end: 10 })).rejects.toBeInstanceOf(RangeError);
  });

  it('reports the size and existence of a blob', async () => {
    expect(await store.size(bigKey)).toBe(big.length);
    expect(await store.exists(bigKey)).toBe(true);
    expect(await store.exists(key())).toBe(false);
  });

  it('stores an empty blob', async () => {
    const k = key();
    expect(await store.put(k, Readable.from([]))).toEqual({ size: 0 });
    expect(await store.size(k)).toBe(0);
    expect((await buffer(await store.get(k))).length).toBe(0);
  });

  it('deletes a blob, and deleting a missing blob is not an error', async () => {
    const k = key();
    await store.put(k, Readable.from([Buffer.from('to be deleted')]));
    await store.delete(k);
    expect(await store.exists(k)).toBe(false);
    await expect(store.get(k)).rejects.toBeInstanceOf(BlobNotFoundError);
    await store.delete(k);
  });

  it('answers BlobNotFoundError for a blob that was never stored', async () => {
    const k = key();
    await expect(store.get(k)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.get(k, { start: 0, end: 10 })).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.size(k)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await store.exists(k)).toBe(false);
  });

  it('never overwrites a blob, whether the new body is one part or many', async () => {
    const k = key();
    await store.put(k, Readable.from([Buffer.from('first')]));
    await expect(store.put(k, Readable.from([Buffer.from('second')]))).rejects.toBeInstanceOf(BlobExistsError);
    await expect(store.put(k, chunked(randomBytes(TEST_S3_PART_BYTES + 1)))).rejects.toBeInstanceOf(BlobExistsError);
    await expect(store.put(bigKey, Readable.from([Buffer.from('small')]))).rejects.toBeInstanceOf(BlobExistsError);
    expect((await buffer(await store.get(k))).toString()).toBe('first');
    expect(await store.size(bigKey)).toBe(big.length);
  });

  it('lets exactly one of two racing writers of the same key win', async () => {
    const k = key();
    const results = await Promise.allSettled(
      ['a', 'b', 'c', 'd'].map((s) => store.put(k, Readable.from([Buffer.from(s.repeat(1000))]))),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(BlobExistsError);
    }
    expect(await store.size(k)).toBe(1000);
  });

  it('refuses keys that are not two random ids before touching storage', async () => {
    const id = randomId();
    const bad = ['../x', 'a/b', `${id}`, `${id}/../../x`, `${id}/${randomId()}/x`, `../${id}/${randomId()}`];
    bad.push('請求書.pdf', `${id.toUpperCase()}/${randomId()}`, `${id}/${randomId()} `, '');
    for (const k of bad) {
      await expect(store.put(k, Readable.from([Buffer.from('x')])), k).rejects.toThrow('invalid blob key');
      await expect(store.get(k), k).rejects.toThrow('invalid blob key');
      await expect(store.delete(k), k).rejects.toThrow('invalid blob key');
      // Lookups may answer "absent" instead (FsBlobStore does); either way nothing is built from the key.
      await expect(store.size(k), k).rejects.toThrow(/invalid blob key|not found/);
      expect(String(await store.exists(k).catch((e: Error) => e.message)), k).toMatch(/^(false|invalid blob key)$/);
    }
  });

  it.each([
    ['within the first part', 10_000],
    ['after the first part', TEST_S3_PART_BYTES + 300_000],
  ])('leaves no blob and no staging when the source fails %s', async (_label, bytes) => {
    const k = key();
    await expect(store.put(k, failingAfter(bytes))).rejects.toThrow('client went away');
    expect(await store.exists(k)).toBe(false);
    expect(await f.leftovers()).toBe(0);
  });

  it('collects what an interrupted write left once it is older than the grace period', async () => {
    await f.leaveLeftover();
    expect(await f.leftovers()).toBe(1);
    expect(await store.collectStaging(600_000)).toBe(0); // could still be a write in progress
    expect(await f.leftovers()).toBe(1);
    if (store instanceof S3BlobStore) {
      // A multipart upload's start time is all S3 tells: a large one on a slow link may run for
      // hours, so only one begun more than a day ago is abandoned.
      expect(await store.collectStaging(600_000, Date.now() + 3_600_000)).toBe(0);
      expect(await store.collectStaging(600_000, Date.now() + MULTIPART_ABANDONED_MS + 60_000)).toBe(1);
    } else {
      expect(await store.collectStaging(600_000, Date.now() + 3_600_000)).toBe(1);
    }
    expect(await f.leftovers()).toBe(0);
    expect(await store.exists(bigKey)).toBe(true); // finished blobs are never staging
  });

  it('fails its readiness check when the storage cannot be reached', async () => {
    await expect(f.broken().check()).rejects.toThrow();
  });
}

describe.runIf(process.env.KURA_TEST_DB === 'sqlite')('blob store contract', () => {
  describe('FsBlobStore (local directory)', () => contract(fsFixture));

  const prefix = uniqueS3Prefix('blob-stores');
  const s3 = testS3Options(prefix);
  if (s3) {
    describe('S3BlobStore on Ceph RGW [BCP-04]', () => {
      contract(() => s3Fixture(s3));

      it('keeps every object under its prefix and its secret out of errors and logs', async () => {
        const store = new S3BlobStore(s3);
        const k = key();
        await store.put(k, Readable.from([Buffer.from('prefixed')]));
        expect(await s3KeysUnder(prefix)).toContain(prefix + k);
        await store.delete(k);

        expect(store.description).not.toContain(s3.secretAccessKey);
        expect(inspect(store, { depth: 10, showHidden: true })).not.toContain(s3.secretAccessKey);
        const wrong = new S3BlobStore({ ...s3, secretAccessKey: `${s3.secretAccessKey}-wrong` });
        const err = await wrong.check().then(
          () => null,
          (e: unknown) => e as Error,
        );
        expect(err).not.toBeNull();
        for (const text of [String(err), err!.stack ?? '', inspect(err, { depth: 10 }), JSON.stringify(err)]) {
          expect(text).not.toContain(s3.secretAccessKey);
        }
      });
    });
  } else if (process.env.CI) {
    describe('S3BlobStore on Ceph RGW [BCP-04]', () => {
      it('has a test S3 server (CI must run test/services/rgw.sh; scripts/test.mjs does)', () => {
        expect.fail('KURA_TEST_S3_ENDPOINT is not set in CI: the S3 blob store would go untested');
      });
    });
  } else {
    describe.skip('S3BlobStore on Ceph RGW: skipped, KURA_TEST_S3_ENDPOINT is not set (bash test/services/rgw.sh start)', () => {
      it('runs the blob store contract', () => {});
    });
  }
});
