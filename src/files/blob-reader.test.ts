import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Readable as ReadableType } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { createEncryptStream, HEADER_BYTES, randomBytes, sha256Hex, SEGMENT_CIPHERTEXT_BYTES } from '../crypto/index.js';
import { BlobNotFoundError } from '../storage/blob-store.js';
import { BlobReader, IntegrityError } from './blob-reader.js';

const dir = mkdtempSync(join(tmpdir(), 'kura-reader-'));
const reader = new BlobReader();
afterAll(async () => {
  await reader.close();
  rmSync(dir, { recursive: true, force: true });
});
const ctx = { tenantId: '7d7e0c0e-0000-4000-8000-000000000001', blobId: '7d7e0c0e-0000-4000-8000-000000000002' };
const KiB = 1024;

/** An encrypted blob file of `plain` under a fresh DEK. */
async function blobOf(plain: Buffer): Promise<{ path: string; dek: Buffer }> {
  const dek = randomBytes(32);
  const path = join(dir, `${sha256Hex(randomBytes(8))}.blob`);
  writeFileSync(path, await buffer(Readable.from([plain]).pipe(createEncryptStream(dek, ctx))));
  return { path, dek };
}

/** Everything the stream gives until it ends or fails. */
async function drain(stream: ReadableType): Promise<{ bytes: Buffer; error: Error | null }> {
  const chunks: Buffer[] = [];
  try {
    for await (const c of stream) chunks.push(c as Buffer);
    return { bytes: Buffer.concat(chunks), error: null };
  } catch (err) {
    return { bytes: Buffer.concat(chunks), error: err as Error };
  }
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('blob reader thread', () => {
  it.each([0, 1, 64 * KiB, 8 * 64 * KiB, 1_300_000])(
    'reads a blob of %i bytes whole and checks it against its record [ENC-01] [TLS-02]',
    async (size) => {
      const plain = randomBytes(size);
      const { path, dek } = await blobOf(plain);
      const got = await drain(reader.open(path, Buffer.from(dek), ctx, { sha256: sha256Hex(plain), size }));
      expect(got.error).toBeNull();
      expect(got.bytes.equals(plain)).toBe(true);
      // Without a record to check against, too.
      expect((await drain(reader.open(path, dek, ctx))).bytes.equals(plain)).toBe(true);
    },
  );

  it('wipes the caller’s DEK once it has handed it to the thread [ENC-01]', async () => {
    const { path, dek } = await blobOf(randomBytes(10));
    const copy = Buffer.from(dek);
    const stream = reader.open(path, copy, ctx);
    expect(copy.equals(Buffer.alloc(32))).toBe(true);
    await drain(stream);
  });

  it('holds back the last run when the SHA-256 or the size differ from the record [TLS-02]', async () => {
    const plain = randomBytes(1_300_000); // three runs of eight segments
    const { path, dek } = await blobOf(plain);
    const wrongHash = await drain(
      reader.open(path, Buffer.from(dek), ctx, { sha256: sha256Hex(Buffer.from('x')), size: plain.length }),
    );
    expect(wrongHash.error).toBeInstanceOf(IntegrityError);
    expect(wrongHash.error!.message).toBe('sha256 mismatch');
    expect(wrongHash.bytes.length).toBeLessThan(plain.length);
    expect(wrongHash.bytes.equals(plain.subarray(0, wrongHash.bytes.length))).toBe(true);
    const wrongSize = await drain(reader.open(path, dek, ctx, { sha256: sha256Hex(plain), size: plain.length + 1 }));
    expect(wrongSize.error).toBeInstanceOf(IntegrityError);
    expect(wrongSize.bytes.length).toBeLessThan(plain.length);
  });

  it('fails on a flipped bit, a truncated blob and a wrong key, delivering nothing past the damage [ENC-01] [TLS-02]', async () => {
    const plain = randomBytes(1_300_000);
    const { path, dek } = await blobOf(plain);
    const sealed = readFileSync(path);
    const segment = 10;
    const flipped = Buffer.from(sealed);
    flipped[HEADER_BYTES + segment * SEGMENT_CIPHERTEXT_BYTES + 5]! ^= 1;
    writeFileSync(path, flipped);
    const bitFlip = await drain(reader.open(path, Buffer.from(dek), ctx));
    expect(bitFlip.error).toBeInstanceOf(IntegrityError);
    expect(bitFlip.error!.message).toMatch(/segment 10 failed authentication/);
    expect(bitFlip.bytes.length).toBeLessThanOrEqual(segment * 64 * KiB);
    // Cut at a segment boundary: the segment before it was not sealed as the last.
    writeFileSync(path, sealed);
    truncateSync(path, HEADER_BYTES + 12 * SEGMENT_CIPHERTEXT_BYTES);
    const truncated = await drain(reader.open(path, Buffer.from(dek), ctx));
    expect(truncated.error).toBeInstanceOf(IntegrityError);
    writeFileSync(path, sealed);
    const otherKey = await drain(reader.open(path, randomBytes(32), ctx));
    expect(otherKey.error).toBeInstanceOf(IntegrityError);
    expect(otherKey.bytes.length).toBe(0);
    // Another blob's context (splicing): its key differs too.
    const spliced = await drain(reader.open(path, Buffer.from(dek), { ...ctx, blobId: ctx.tenantId }));
    expect(spliced.error).toBeInstanceOf(IntegrityError);
  });

  it('reports a missing file as a missing blob', async () => {
    const got = await drain(reader.open(join(dir, 'nothing-here'), randomBytes(32), ctx));
    expect(got.error).toBeInstanceOf(BlobNotFoundError);
  });

  it('serves several streams at once, each whole and in order', async () => {
    const blobs = await Promise.all(
      [900_000, 1_300_000, 50_000, 2_000_000].map(async (n) => {
        const plain = randomBytes(n);
        return { plain, ...(await blobOf(plain)) };
      }),
    );
    const got = await Promise.all(
      blobs.map((b) => drain(reader.open(b.path, b.dek, ctx, { sha256: sha256Hex(b.plain), size: b.plain.length }))),
    );
    got.forEach((g, i) => {
      expect(g.error).toBeNull();
      expect(g.bytes.equals(blobs[i]!.plain)).toBe(true);
    });
  });

  it('reads ahead only a few runs for a reader that does not read (a slow client)', async () => {
    const plain = randomBytes(8 * 1024 * KiB);
    const { path, dek } = await blobOf(plain);
    const stream = reader.open(path, dek, ctx, { sha256: sha256Hex(plain), size: plain.length });
    stream.pause();
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The stream's run of 512 KiB, two runs on their way and the one that filled it; the rest stays on disk.
    expect(stream.readableLength).toBeGreaterThan(0);
    expect(stream.readableLength).toBeLessThanOrEqual(4 * 512 * KiB);
    const got = await drain(stream);
    expect(got.bytes.equals(plain)).toBe(true);
  });

  it('closes the file when the reader goes away mid-stream', async () => {
    const plain = randomBytes(4 * 1024 * KiB);
    const { path, dek } = await blobOf(plain);
    const before = openFds();
    const stream = reader.open(path, dek, ctx);
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));
    expect(openFds()).toBe(before + 1);
    stream.destroy();
    for (let i = 0; i < 100 && openFds() !== before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(openFds()).toBe(before);
  });
});
