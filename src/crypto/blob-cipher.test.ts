import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  HEADER_BYTES,
  SEGMENT_CIPHERTEXT_BYTES,
  SEGMENT_PLAINTEXT_BYTES,
  ciphertextSize,
  createDecryptStream,
  createEncryptStream,
  createRangeDecryptStream,
  parseHeader,
  planRange,
  plaintextSize,
} from './blob-cipher.js';
import { aesGcmEncrypt, DecryptError, hkdfSha256, sha256Hex } from './primitives.js';

const vectors = JSON.parse(readFileSync(new URL('../../test/fixtures/blob-format-v1.json', import.meta.url), 'utf8'));
const dek = Buffer.from(vectors.dekHex, 'hex');
const header = { salt: Buffer.from(vectors.saltHex, 'hex'), noncePrefix: Buffer.from(vectors.noncePrefixHex, 'hex') };
const ctx = { tenantId: vectors.tenantId as string, blobId: vectors.blobId as string };
const pattern = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251));

/** Chunks of random sizes, as a network would deliver them. */
function chunked(data: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  let off = 0;
  let i = 0;
  while (off < data.length) {
    const n = Math.max(1, sizes.length ? sizes[i++ % sizes.length]! : data.length);
    out.push(data.subarray(off, off + n));
    off += n;
  }
  return out;
}

/** `h = 'random'` lets the stream draw its own salt and nonce prefix, as in production. */
const encrypt = (pt: Buffer, sizes: number[] = [], c = ctx, h: typeof header | 'random' = header) =>
  buffer(Readable.from(chunked(pt, sizes)).pipe(createEncryptStream(dek, c, h === 'random' ? undefined : h)));
const decrypt = (ct: Buffer, sizes: number[] = [], c = ctx) =>
  buffer(Readable.from(chunked(ct, sizes)).pipe(createDecryptStream(dek, c)));

/** An independent one-shot reading of design §5, sharing nothing with the streaming code but the primitives. */
function reference(pt: Buffer): Buffer {
  const info = Buffer.from(`kura-blob-v1\0${ctx.tenantId}\0${ctx.blobId}`);
  const key = hkdfSha256(dek, header.salt, info, 32);
  const parts: Buffer[] = [Buffer.from('KURA'), Buffer.from([1, 45]), header.salt, header.noncePrefix];
  const n = Math.max(1, Math.ceil(pt.length / 65536));
  for (let i = 0; i < n; i++) {
    const nonce = Buffer.concat([
      header.noncePrefix,
      Buffer.from([(i >>> 24) & 255, (i >>> 16) & 255, (i >>> 8) & 255, i & 255]),
      Buffer.from([i === n - 1 ? 1 : 0]),
    ]);
    parts.push(aesGcmEncrypt(key, nonce, pt.subarray(i * 65536, (i + 1) * 65536), Buffer.alloc(0)));
  }
  return Buffer.concat(parts);
}

describe('blob format v1 [ENC-01]', () => {
  it('reproduces the published test vectors, and so does an independent reference', async () => {
    for (const v of vectors.cases) {
      const ct = await encrypt(pattern(v.plaintextSize), [1000, 7, 65536]);
      expect(ct.length, `size ${v.plaintextSize}`).toBe(v.ciphertextSize);
      expect(sha256Hex(ct)).toBe(v.ciphertextSha256);
      expect(sha256Hex(reference(pattern(v.plaintextSize)))).toBe(v.ciphertextSha256);
      if (v.ciphertextHex) expect(ct.toString('hex')).toBe(v.ciphertextHex);
      expect(ciphertextSize(v.plaintextSize)).toBe(v.ciphertextSize);
      expect(plaintextSize(v.ciphertextSize)).toBe(v.plaintextSize);
      expect((await decrypt(ct, [13, 65552])).equals(pattern(v.plaintextSize))).toBe(true);
    }
  });

  it('round-trips any plaintext in any chunking, with a fresh random header each time', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 * 65536 + 10 }),
        fc.array(fc.integer({ min: 1, max: 70000 }), { maxLength: 5 }),
        async (n, sizes) => {
          const pt = Buffer.from(Array.from({ length: n }, (_, i) => (i * 31) & 255));
          const ct = await encrypt(pt, sizes, ctx, 'random');
          expect(ct.subarray(6, 45).equals(Buffer.concat([header.salt, header.noncePrefix]))).toBe(false);
          expect(ct.length).toBe(ciphertextSize(n));
          expect((await decrypt(ct, sizes.reverse())).equals(pt)).toBe(true);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('detects truncation, extension, reordering, splicing between blobs and any bit flip', async () => {
    const pt = pattern(3 * SEGMENT_PLAINTEXT_BYTES + 100);
    const ct = await encrypt(pt);
    const seg = (b: Buffer, i: number) =>
      b.subarray(HEADER_BYTES + i * SEGMENT_CIPHERTEXT_BYTES, HEADER_BYTES + (i + 1) * SEGMENT_CIPHERTEXT_BYTES);
    const head = ct.subarray(0, HEADER_BYTES);
    const bad: Record<string, Buffer> = {
      'truncated at a segment boundary': ct.subarray(0, HEADER_BYTES + 3 * SEGMENT_CIPHERTEXT_BYTES),
      'truncated mid-segment': ct.subarray(0, ct.length - 5),
      'header only': head,
      'half a header': ct.subarray(0, 20),
      extended: Buffer.concat([ct, Buffer.alloc(17)]),
      'segments swapped': Buffer.concat([head, seg(ct, 1), seg(ct, 0), ct.subarray(HEADER_BYTES + 2 * SEGMENT_CIPHERTEXT_BYTES)]),
      'segment dropped': Buffer.concat([head, seg(ct, 0), ct.subarray(HEADER_BYTES + 2 * SEGMENT_CIPHERTEXT_BYTES)]),
    };
    const other = await encrypt(pt, [], { ...ctx, blobId: '00000000-0000-4000-8000-000000000000' }, header);
    bad['segment from another blob'] = Buffer.concat([head, seg(other, 0), ct.subarray(HEADER_BYTES + SEGMENT_CIPHERTEXT_BYTES)]);
    bad['header of another blob'] = Buffer.concat([
      (await encrypt(pt, [], ctx, 'random')).subarray(0, HEADER_BYTES),
      ct.subarray(HEADER_BYTES),
    ]);
    for (const [name, data] of Object.entries(bad)) {
      const outcome = await decrypt(data).then(
        (b) => `decrypted ${b.length} bytes`,
        (e: unknown) => (e instanceof DecryptError ? 'refused' : String(e)),
      );
      expect(outcome, name).toBe('refused');
    }
    await expect(decrypt(ct, [], { ...ctx, tenantId: '99999999-2222-4333-8444-555555555555' })).rejects.toBeInstanceOf(
      DecryptError,
    );
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: ct.length * 8 - 1 }), async (bit) => {
        const flipped = Buffer.from(ct);
        flipped[bit >> 3]! ^= 1 << (bit & 7);
        await expect(decrypt(flipped)).rejects.toBeInstanceOf(DecryptError);
      }),
      { numRuns: 60 },
    );
  });

  it('decrypts any range from only the segments it touches', async () => {
    const pt = pattern(2 * SEGMENT_PLAINTEXT_BYTES + 777);
    const ct = await encrypt(pt);
    const h = parseHeader(ct);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: pt.length - 1 }), fc.nat({ max: pt.length - 1 }), async (a, b) => {
        const [start, end] = a <= b ? [a, b] : [b, a];
        const plan = planRange(ct.length, start, end);
        expect(plan.cipherEnd - plan.cipherStart).toBeLessThanOrEqual(
          (plan.lastSegment - plan.firstSegment + 1) * SEGMENT_CIPHERTEXT_BYTES,
        );
        const slice = ct.subarray(plan.cipherStart, plan.cipherEnd);
        const out = await buffer(Readable.from(chunked(slice, [4096])).pipe(createRangeDecryptStream(dek, ctx, h, plan)));
        expect(out.equals(pt.subarray(start, end + 1))).toBe(true);
      }),
      { numRuns: 40 },
    );
    const plan = planRange(ct.length, 0, 10);
    expect(plan).toMatchObject({
      firstSegment: 0,
      lastSegment: 0,
      cipherStart: HEADER_BYTES,
      cipherEnd: HEADER_BYTES + SEGMENT_CIPHERTEXT_BYTES,
    });
    const tampered = Buffer.from(ct.subarray(plan.cipherStart, plan.cipherEnd));
    tampered[5]! ^= 1;
    await expect(buffer(Readable.from([tampered]).pipe(createRangeDecryptStream(dek, ctx, h, plan)))).rejects.toBeInstanceOf(
      DecryptError,
    );
    expect(() => planRange(ct.length, 0, pt.length)).toThrow(RangeError);
  });
});
