/**
 * The test S3 server (Ceph RGW started by test/services/rgw.sh, addresses passed in by
 * scripts/test.mjs as KURA_TEST_S3_*). Every test run and suite uses a prefix of its own, so reruns
 * against a reused server never see each other's objects.
 */
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomId } from '../../src/crypto/primitives.js';
import type { S3BlobStoreOptions } from '../../src/storage/s3-blob-store.js';

/** The smallest part S3 accepts, so a few MiB of test data already takes the multipart path. */
export const TEST_S3_PART_BYTES = 5 * 1024 * 1024;

/** Options for an S3BlobStore on the test server under `prefix`, or undefined when none is configured. */
export function testS3Options(prefix: string): S3BlobStoreOptions | undefined {
  const endpoint = process.env.KURA_TEST_S3_ENDPOINT;
  if (!endpoint) return undefined;
  const need = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`KURA_TEST_S3_ENDPOINT is set but ${name} is not`);
    return value;
  };
  return {
    endpoint,
    region: 'ap-northeast-1',
    bucket: need('KURA_TEST_S3_BUCKET'),
    prefix,
    forcePathStyle: true,
    accessKeyId: need('KURA_TEST_S3_ACCESS_KEY_ID'),
    secretAccessKey: need('KURA_TEST_S3_SECRET_ACCESS_KEY'),
    partBytes: TEST_S3_PART_BYTES,
  };
}

/** A fresh key prefix for one test run, e.g. `test-runs/blob-stores-3f2a…/`. */
export function uniqueS3Prefix(label: string): string {
  return `test-runs/${label}-${randomId()}/`;
}

/** Searches a stream without holding it whole: each chunk is searched with the previous chunk's tail. */
async function streamContains(body: Readable, needle: Buffer): Promise<boolean> {
  let tail = Buffer.alloc(0);
  try {
    for await (const chunk of body) {
      const window = Buffer.concat([tail, chunk as Buffer]);
      if (window.includes(needle)) return true;
      tail = window.subarray(Math.max(0, window.length - needle.length + 1));
    }
    return false;
  } finally {
    body.destroy();
  }
}

function clientFor(o: S3BlobStoreOptions): S3Client {
  return new S3Client({
    endpoint: o.endpoint,
    region: o.region,
    forcePathStyle: o.forcePathStyle,
    credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Every object key under `prefix` in the test bucket (full keys, prefix included). */
export async function s3KeysUnder(prefix: string): Promise<string[]> {
  const o = testS3Options(prefix);
  if (!o) throw new Error('no test S3 server configured (KURA_TEST_S3_ENDPOINT)');
  const s3 = clientFor(o);
  try {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: o.bucket, Prefix: prefix, ContinuationToken }));
      for (const obj of page.Contents ?? []) if (obj.Key) keys.push(obj.Key);
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys;
  } finally {
    s3.destroy();
  }
}

/**
 * Downloads every object under `prefix` and returns the keys whose bytes contain `needle`: a
 * plaintext canary found in object storage means something was stored unencrypted.
 */
export async function s3ObjectsContaining(needle: Buffer, prefix: string): Promise<string[]> {
  if (needle.length === 0) throw new Error('empty needle');
  const o = testS3Options(prefix);
  if (!o) throw new Error('no test S3 server configured (KURA_TEST_S3_ENDPOINT)');
  const s3 = clientFor(o);
  try {
    const hits: string[] = [];
    for (const Key of await s3KeysUnder(prefix)) {
      const res = await s3.send(new GetObjectCommand({ Bucket: o.bucket, Key }));
      if (await streamContains(res.Body as Readable, needle)) hits.push(Key);
    }
    return hits;
  } finally {
    s3.destroy();
  }
}
