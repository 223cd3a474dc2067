import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { freeAlignedBuffers, giveAligned, takeAlignedPair } from './aligned-buffers.js';
import { activeWriters, BatchWriter, openWriteBatch } from './write-batch.js';

const dir = mkdtempSync(join(tmpdir(), 'kura-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const MiB = 1024 * 1024;

/** Deterministic bytes: byte i of the stream is (i * 31 + seed) & 0xff. */
function bytes(n: number, from: number, seed = 7): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = ((from + i) * 31 + seed) & 0xff;
  return b;
}

describe('write batches shared by concurrent transfers', () => {
  it('gives a lone writer 1 MiB, a power of two in its share while others write, and never under 128 KiB', () => {
    const first = openWriteBatch();
    expect(first.bytes()).toBe(1024 * 1024);
    const others = Array.from({ length: 19 }, () => openWriteBatch());
    // 20 writers share 8 MiB: about 410 KiB each, so 256 KiB.
    expect(first.bytes()).toBe(256 * 1024);
    const many = Array.from({ length: 100 }, () => openWriteBatch());
    expect(first.bytes()).toBe(128 * 1024);
    for (const w of [...others, ...many]) w.release();
    expect(first.bytes()).toBe(1024 * 1024);
    first.release();
  });

  it('counts a writer once however often it is released', () => {
    const before = activeWriters();
    const a = openWriteBatch();
    const b = openWriteBatch();
    a.release();
    a.release();
    expect(activeWriters()).toBe(before + 1);
    b.release();
    expect(activeWriters()).toBe(before);
  });
});

describe.each([
  { mode: 'through the page cache', direct: false },
  { mode: 'past the page cache (O_DIRECT)', direct: true },
])("[TLS-02] BatchWriter: a durable writer's batches, $mode", ({ direct }) => {
  const via = (path: string) => (direct ? path : undefined);

  it('writes every chunk, small and larger than a batch, in order from an unaligned start position', async () => {
    const path = join(dir, `order-${direct}.bin`);
    writeFileSync(path, Buffer.alloc(100, 0xee));
    const fh = await open(path, 'r+');
    const writer = new BatchWriter(fh, 100, undefined, via(path));
    const sizes = [1, 65_552, 3 * MiB + 5, 16, 0, 700_000, 64 * 1024];
    let pos = 0;
    for (const n of sizes) {
      await writer.write(bytes(n, pos));
      pos += n;
    }
    expect(writer.end).toBe(100 + pos);
    expect(writer.bypassesCache).toBe(direct);
    await writer.finish();
    await fh.close();
    const out = readFileSync(path);
    expect(out.length).toBe(100 + pos);
    expect(out.subarray(0, 100).equals(Buffer.alloc(100, 0xee))).toBe(true);
    expect(out.subarray(100).equals(bytes(pos, 0))).toBe(true);
  });

  it('keeps its batch size and every byte when other writers start mid-batch', async () => {
    const path = join(dir, `shrink-${direct}.bin`);
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0, undefined, via(path)); // alone: 1 MiB batches
    await writer.write(bytes(900 * 1024, 0));
    const others = Array.from({ length: 40 }, () => openWriteBatch()); // now 128 KiB each
    await writer.write(bytes(300 * 1024, 900 * 1024));
    for (const o of others) o.release();
    await writer.write(bytes(2 * MiB, 1200 * 1024)); // and 1 MiB again
    await writer.finish();
    await fh.close();
    expect(readFileSync(path).equals(bytes(1200 * 1024 + 2 * MiB, 0))).toBe(true);
  });

  it('copies what it is given: a caller may reuse its chunk as soon as write() returns', async () => {
    const path = join(dir, `copy-${direct}.bin`);
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0, undefined, via(path));
    const chunk = Buffer.allocUnsafe(48 * 1024);
    const expected: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      chunk.fill(i); // the same buffer, overwritten every time
      expected.push(Buffer.alloc(chunk.length, i));
      await writer.write(chunk);
    }
    await writer.finish();
    await fh.close();
    expect(readFileSync(path).equals(Buffer.concat(expected))).toBe(true);
  });

  it(`${direct ? 'has no page cache to flush as it goes' : 'flushes to the disk in the background as it goes, never two syncs at once'}, and fsyncs at the end`, async () => {
    const path = join(dir, `sync-${direct}.bin`);
    const fh = await open(path, 'wx');
    let running = 0;
    let most = 0;
    const datasync = vi.spyOn(fh, 'datasync').mockImplementation(async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    const sync = vi.spyOn(fh, 'sync');
    const writer = new BatchWriter(fh, 0, 256 * 1024, via(path));
    for (let i = 0; i < 40; i++) await writer.write(bytes(128 * 1024, i * 128 * 1024));
    await writer.finish();
    await fh.close();
    if (direct) expect(datasync).not.toHaveBeenCalled();
    else expect(datasync.mock.calls.length).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(1);
    expect(sync).toHaveBeenCalledTimes(1);
    expect(readFileSync(path).equals(bytes(40 * 128 * 1024, 0))).toBe(true);
  });

  it('fails finish() when a write fails, and gives its share back either way', async () => {
    const before = activeWriters();
    const path = join(dir, `readonly-${direct}.bin`);
    writeFileSync(path, '');
    const fh = await open(path, 'r+');
    // The disk fails every write, on this descriptor and on the writer's own direct one.
    const failing = vi
      .spyOn(Object.getPrototypeOf(fh) as FileHandle, 'write')
      .mockRejectedValue(Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }));
    giveAligned(takeAlignedPair(MiB)!); // an arena of its size exists: the writer takes from it, none is added
    const free = freeAlignedBuffers();
    const writer = new BatchWriter(fh, 0, undefined, via(path));
    expect(activeWriters()).toBe(before + 1);
    try {
      await writer.write(bytes(3 * MiB, 0)).catch(() => {});
      await expect(writer.finish()).rejects.toThrow('EIO');
    } finally {
      failing.mockRestore();
    }
    expect(activeWriters()).toBe(before);
    expect(freeAlignedBuffers()).toBe(free); // its buffers went back
    await fh.close();
    expect(readFileSync(path).length).toBe(0);
  });

  it('abandon() drops what is gathered, waits for the write in flight and gives its share back', async () => {
    const before = activeWriters();
    const path = join(dir, `abandon-${direct}.bin`);
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0, undefined, via(path));
    await writer.write(bytes(1000, 0)); // gathered, not written
    await writer.abandon();
    await writer.abandon();
    expect(activeWriters()).toBe(before);
    await fh.close();
    expect(readFileSync(path).length).toBe(0);
  });
});

describe('[TLS-02] BatchWriter past the page cache: alignment and fallbacks', () => {
  it('rewrites nothing when it is given nothing, even at an unaligned start', async () => {
    const path = join(dir, 'nothing.bin');
    const before = bytes(5000, 0, 3);
    writeFileSync(path, before);
    const fh = await open(path, 'r+');
    const writer = new BatchWriter(fh, 5000, 0, path);
    await writer.write(Buffer.alloc(0));
    await writer.finish();
    await fh.close();
    expect(readFileSync(path).equals(before)).toBe(true);
  });

  it('goes through the page cache when the aligned pool is spent, with every byte intact', async () => {
    const taken: Buffer[] = [];
    for (let pair = takeAlignedPair(MiB); pair; pair = takeAlignedPair(MiB)) taken.push(...pair);
    try {
      const path = join(dir, 'spent.bin');
      const fh = await open(path, 'wx');
      const writer = new BatchWriter(fh, 0, 0, path);
      await writer.write(bytes(3 * MiB + 77, 0));
      expect(writer.bypassesCache).toBe(false);
      await writer.finish();
      await fh.close();
      expect(readFileSync(path).equals(bytes(3 * MiB + 77, 0))).toBe(true);
    } finally {
      giveAligned(taken);
    }
    // With buffers back, the next writer bypasses the cache again.
    const path = join(dir, 'unspent.bin');
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0, 0, path);
    await writer.write(bytes(MiB, 0));
    expect(writer.bypassesCache).toBe(true);
    await writer.finish();
    await fh.close();
  });
});
