import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
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
  it('gives a lone writer 1 MiB, shrinks while others write, and never goes under 128 KiB', () => {
    const first = openWriteBatch();
    expect(first.bytes()).toBe(1024 * 1024);
    const others = Array.from({ length: 19 }, () => openWriteBatch());
    // 20 writers share 8 MiB: about 410 KiB each.
    expect(first.bytes()).toBe(Math.floor((8 * 1024 * 1024) / 20));
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

describe("BatchWriter: a durable writer's batches", () => {
  it('writes every chunk, small and larger than a batch, in order from its start position', async () => {
    const path = join(dir, 'order.bin');
    writeFileSync(path, Buffer.alloc(100, 0xee));
    const fh = await open(path, 'r+');
    const writer = new BatchWriter(fh, 100);
    const sizes = [1, 65_552, 3 * MiB + 5, 16, 0, 700_000, 64 * 1024];
    let pos = 0;
    for (const n of sizes) {
      await writer.write(bytes(n, pos));
      pos += n;
    }
    expect(writer.end).toBe(100 + pos);
    await writer.finish();
    await fh.close();
    const out = readFileSync(path);
    expect(out.length).toBe(100 + pos);
    expect(out.subarray(0, 100).equals(Buffer.alloc(100, 0xee))).toBe(true);
    expect(out.subarray(100).equals(bytes(pos, 0))).toBe(true);
  });

  it('keeps every byte when other writers start mid-batch and its batch size shrinks under what it holds', async () => {
    const path = join(dir, 'shrink.bin');
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0); // alone: 1 MiB batches
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
    const path = join(dir, 'copy.bin');
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0);
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

  it('flushes to the disk in the background as it goes, never two syncs at once, and fsyncs at the end', async () => {
    const fh = await open(join(dir, 'sync.bin'), 'wx');
    let running = 0;
    let most = 0;
    const datasync = vi.spyOn(fh, 'datasync').mockImplementation(async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
    });
    const sync = vi.spyOn(fh, 'sync');
    const writer = new BatchWriter(fh, 0, 256 * 1024);
    for (let i = 0; i < 40; i++) await writer.write(bytes(128 * 1024, i * 128 * 1024));
    await writer.finish();
    await fh.close();
    expect(datasync.mock.calls.length).toBeGreaterThan(0);
    expect(most).toBe(1);
    expect(sync).toHaveBeenCalledTimes(1);
  });

  it('fails finish() when a write fails, and gives its share back either way', async () => {
    const before = activeWriters();
    const path = join(dir, 'readonly.bin');
    writeFileSync(path, '');
    const fh = await open(path, 'r'); // writes fail with EBADF
    const writer = new BatchWriter(fh, 0);
    expect(activeWriters()).toBe(before + 1);
    await writer.write(bytes(3 * MiB, 0)).catch(() => {});
    await expect(writer.finish()).rejects.toThrow();
    expect(activeWriters()).toBe(before);
    await fh.close();
    expect(readFileSync(path).length).toBe(0);
  });

  it('abandon() drops what is gathered, waits for the write in flight and gives its share back', async () => {
    const before = activeWriters();
    const path = join(dir, 'abandon.bin');
    const fh = await open(path, 'wx');
    const writer = new BatchWriter(fh, 0);
    await writer.write(bytes(1000, 0)); // gathered, not written
    await writer.abandon();
    await writer.abandon();
    expect(activeWriters()).toBe(before);
    await fh.close();
    expect(readFileSync(path).length).toBe(0);
  });
});
