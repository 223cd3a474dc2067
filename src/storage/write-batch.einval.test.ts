/**
 * BatchWriter when the kernel refuses a direct write's alignment (EINVAL): here the "aligned" pool
 * hands out buffers one byte past a 4 KiB boundary, which ext4 refuses for O_DIRECT.
 */
import { closeSync, constants, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type * as AlignedBuffers from './aligned-buffers.js';
import { BatchWriter } from './write-batch.js';

vi.mock('./aligned-buffers.js', async (importOriginal) => {
  const real = await importOriginal<typeof AlignedBuffers>();
  const misaligned = (size: number) => Buffer.allocUnsafeSlow(size + 4096).subarray(1, size + 1);
  return { ...real, takeAlignedPair: (size: number) => [misaligned(size), misaligned(size)], giveAligned: () => {} };
});

const dir = mkdtempSync(join(tmpdir(), 'kura-einval-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('[TLS-02] BatchWriter when a direct write is refused', () => {
  it('writes the refused batch and the rest through the page cache, every byte in place', async () => {
    const path = join(dir, 'refused.bin');
    writeFileSync(path, Buffer.alloc(10, 0xaa));
    const fh = await open(path, 'r+');
    const writer = new BatchWriter(fh, 10, 0, path);
    const data = Buffer.alloc(3 * 1024 * 1024 + 999);
    for (let i = 0; i < data.length; i++) data[i] = (i * 13) & 0xff;
    for (let off = 0; off < data.length; off += 100_000) await writer.write(data.subarray(off, off + 100_000));
    await writer.finish();
    await fh.close();
    expect(readFileSync(path).equals(Buffer.concat([Buffer.alloc(10, 0xaa), data]))).toBe(true);
    // Where the filesystem checks alignment (ext4, xfs), the writer gave up on direct writes.
    if (refusesMisaligned()) expect(writer.bypassesCache).toBe(false);
  });
});

function refusesMisaligned(): boolean {
  const fd = openSync(join(dir, 'probe'), constants.O_WRONLY | constants.O_CREAT | constants.O_DIRECT);
  try {
    writeSync(fd, Buffer.allocUnsafeSlow(8192).subarray(1, 4097), 0, 4096, 0);
    return false;
  } catch {
    return true;
  } finally {
    closeSync(fd);
  }
}
