import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes, randomId } from '../crypto/primitives.js';
import { BlobExistsError, BlobNotFoundError, blobKey } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';
import { activeWriters } from './write-batch.js';

const root = mkdtempSync(join(tmpdir(), 'kura-blobs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new FsBlobStore(root);
const key = () => blobKey(randomId(), randomId());

describe('local blob store', () => {
  it('stores, reads whole and by range, sizes and deletes a blob', async () => {
    const k = key();
    const data = randomBytes(200_000);
    expect(await store.put(k, Readable.from([data.subarray(0, 1000), data.subarray(1000)]))).toEqual({ size: 200_000 });
    expect((await buffer(await store.get(k))).equals(data)).toBe(true);
    expect((await buffer(await store.get(k, { start: 65_536, end: 131_089 }))).equals(data.subarray(65_536, 131_089))).toBe(true);
    expect(await store.size(k)).toBe(200_000);
    await store.delete(k);
    expect(await store.exists(k)).toBe(false);
    await expect(store.get(k)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('never overwrites an existing blob', async () => {
    const k = key();
    await store.put(k, Readable.from([Buffer.from('first')]));
    await expect(store.put(k, Readable.from([Buffer.from('second')]))).rejects.toBeInstanceOf(BlobExistsError);
    expect((await buffer(await store.get(k))).toString()).toBe('first');
  });

  it('leaves no blob and no staging file when the source fails mid-stream', async () => {
    const k = key();
    const failing = new Readable({
      read() {
        this.push(randomBytes(10_000));
        this.destroy(new Error('client went away'));
      },
    });
    await expect(store.put(k, failing)).rejects.toThrow('client went away');
    expect(await store.exists(k)).toBe(false);
    expect(readdirSync(join(root, '.staging'))).toEqual([]);
    expect(activeWriters()).toBe(0); // its share of the write budget went back
  });

  it('refuses keys that are not two random ids, so no name or path can reach the disk', async () => {
    for (const bad of ['../etc/passwd', 'a/b', `${randomId()}/../../x`, `${randomId()}/${randomId()}/x`, '請求書.pdf']) {
      await expect(store.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow('invalid blob key');
    }
  });

  it('collects staging leftovers older than the grace period', async () => {
    mkdirSync(join(root, '.staging'), { recursive: true });
    const old = join(root, '.staging', 'crashed.tmp');
    writeFileSync(old, 'partial');
    const past = new Date(Date.now() - 3_600_000);
    utimesSync(old, past, past);
    writeFileSync(join(root, '.staging', 'fresh.tmp'), 'in progress');
    expect(await store.collectStaging(600_000)).toBe(1);
    expect(readdirSync(join(root, '.staging'))).toEqual(['fresh.tmp']);
  });
});
