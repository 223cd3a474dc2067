/**
 * Writes test/fixtures/blob-format-v1.json: published test vectors of the blob format (design §5).
 * Run once with `npx tsx scripts/make-blob-vectors.ts`; the tests check the implementation and an
 * independent one-shot reference against the file, so a change to the format cannot pass silently.
 */
import { writeFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createEncryptStream } from '../src/crypto/blob-cipher.js';
import { sha256Hex } from '../src/crypto/primitives.js';

const dek = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
const header = { salt: Buffer.alloc(32, 0xa5), noncePrefix: Buffer.from('6b757261763121', 'hex') };
const ctx = { tenantId: '11111111-2222-4333-8444-555555555555', blobId: '66666666-7777-4888-9999-aaaaaaaaaaaa' };
const plaintext = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + 3) % 251));

const cases = [];
for (const size of [0, 1, 15, 65535, 65536, 65537, 131072, 200000]) {
  const ct = await buffer(Readable.from([plaintext(size)]).pipe(createEncryptStream(dek, ctx, header)));
  cases.push({
    plaintextSize: size,
    plaintextPattern: 'byte i = (7i + 3) mod 251',
    ciphertextSize: ct.length,
    ciphertextSha256: sha256Hex(ct),
    ...(ct.length <= 256
      ? { ciphertextHex: ct.toString('hex') }
      : { ciphertextFirst64Hex: ct.subarray(0, 64).toString('hex'), ciphertextLast64Hex: ct.subarray(-64).toString('hex') }),
  });
}
writeFileSync(
  new URL('../test/fixtures/blob-format-v1.json', import.meta.url),
  `${JSON.stringify({ format: 'kura-blob-v1', dekHex: dek.toString('hex'), saltHex: header.salt.toString('hex'), noncePrefixHex: header.noncePrefix.toString('hex'), ...ctx, cases }, null, 2)}\n`,
);
console.log(`wrote ${cases.length} vectors`);
