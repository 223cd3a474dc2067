/**
 * The local-directory blob store (embedded mode): each blob is written to a staging file, fsynced,
 * linked into place (never overwriting) and the directory fsynced, so an acknowledged blob survives
 * a crash and a crash never leaves a partial blob under its final name.
 */
import { createReadStream } from 'node:fs';
import { access, link, mkdir, open, readdir, rm, stat, unlink } from 'node:fs/promises';
import { constants } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { randomId } from '../crypto/primitives.js';
import { assertBlobKey, BlobExistsError, BlobNotFoundError, type BlobStore } from './blob-store.js';
import { BatchWriter } from './write-batch.js';

const STAGING = '.staging';

export class FsBlobStore implements BlobStore {
  readonly description: string;

  constructor(private readonly root: string) {
    this.description = `directory ${root}`;
  }

  private pathOf(key: string): { dir: string; file: string } {
    const [tenant, blob] = assertBlobKey(key).split('/') as [string, string];
    const dir = join(this.root, tenant, blob.slice(0, 2));
    return { dir, file: join(dir, blob) };
  }

  async put(key: string, body: Readable): Promise<{ size: number }> {
    const { dir, file } = this.pathOf(key);
    const stagingDir = join(this.root, STAGING);
    await mkdir(stagingDir, { recursive: true, mode: 0o700 });
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const tmp = join(stagingDir, `${randomId()}.tmp`);
    try {
      await writeDurably(tmp, body);
      try {
        await link(tmp, file);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BlobExistsError(key);
        throw err;
      }
      await fsyncDir(dir);
      return { size: (await stat(file)).size };
    } finally {
      await unlink(tmp).catch(() => {});
    }
  }

  async adopt(key: string, path: string): Promise<{ size: number }> {
    const { dir, file } = this.pathOf(key);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const fh = await open(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
    try {
      await link(path, file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') throw new BlobExistsError(key);
      // Staging on another file system: copy like any other blob.
      if (code === 'EXDEV') return this.put(key, createReadStream(path));
      throw err;
    }
    await fsyncDir(dir);
    return { size: (await stat(file)).size };
  }

  async get(key: string, range?: { start: number; end: number }): Promise<Readable> {
    const { file } = this.pathOf(key);
    try {
      await access(file, constants.R_OK);
    } catch {
      throw new BlobNotFoundError(key);
    }
    if (range && range.end <= range.start) throw new RangeError('empty range');
    // Large reads: fewer, bigger chunks through decryption and TLS (64 KiB segments fit 16 at a time).
    const highWaterMark = 1024 * 1024;
    return createReadStream(file, range ? { start: range.start, end: range.end - 1, highWaterMark } : { highWaterMark });
  }

  async size(key: string): Promise<number> {
    const { file } = this.pathOf(key);
    try {
      return (await stat(file)).size;
    } catch {
      throw new BlobNotFoundError(key);
    }
  }

  async exists(key: string): Promise<boolean> {
    const { file } = this.pathOf(key);
    return stat(file).then(
      () => true,
      () => false,
    );
  }

  async delete(key: string): Promise<void> {
    const { dir, file } = this.pathOf(key);
    await rm(file, { force: true });
    await fsyncDir(dir).catch(() => {});
  }

  async check(): Promise<void> {
    await mkdir(this.root, { recursive: true, mode: 0o700 });
    await access(this.root, constants.R_OK | constants.W_OK);
  }

  /** Removes staging files older than `olderThanMs` (left by a crash mid-write); returns how many. */
  async collectStaging(olderThanMs: number, now = Date.now()): Promise<number> {
    const stagingDir = join(this.root, STAGING);
    const names = await readdir(stagingDir).catch(() => [] as string[]);
    let n = 0;
    for (const name of names) {
      const p = join(stagingDir, name);
      const s = await stat(p).catch(() => null);
      if (s && now - s.mtimeMs > olderThanMs) {
        await rm(p, { force: true });
        n++;
      }
    }
    return n;
  }
}

/** Writes `body` to a new file and fsyncs it, in batches (`BatchWriter`, past the page cache where it can). */
async function writeDurably(path: string, body: Readable): Promise<void> {
  const fh = await open(path, 'wx', 0o600);
  const writer = new BatchWriter(fh, 0, undefined, path);
  try {
    for await (const chunk of body) await writer.write(chunk as Buffer);
    await writer.finish();
  } catch (err) {
    await writer.abandon();
    throw err;
  } finally {
    await fh.close();
  }
}

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
