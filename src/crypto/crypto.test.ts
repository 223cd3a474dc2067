import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalKeyFileProvider, MasterKeyError } from './key-provider.js';
import { TenantKeyring, type KekRecord, type KekStore } from './keyring.js';
import { aesGcmDecrypt, aesGcmEncrypt, DecryptError, hkdfSha256, unwrapKey, wrapKey } from './primitives.js';
import { generateSigningKeyPem, loadSigningKey, verifySignature } from './signing.js';

const dir = mkdtempSync(join(tmpdir(), 'kura-crypto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('AES-256-GCM [ENC-01] [ENC-04]', () => {
  // NIST GCM test vector (gcmEncryptExtIV256.rsp, Count 0 with 128-bit plaintext): key, IV, PT → CT ‖ tag.
  it('matches a NIST CAVP vector', () => {
    const key = Buffer.from('31bdadd96698c204aa9ce1448ea94ae1fb4a9a0b3c9d773b51bb1822666b8f22', 'hex');
    const iv = Buffer.from('0d18e06c7c725ac9e362e1ce', 'hex');
    const pt = Buffer.from('2db5168e932556f8089a0622981d017d', 'hex');
    const sealed = aesGcmEncrypt(key, iv, pt, Buffer.alloc(0));
    expect(sealed.toString('hex')).toBe('fa4362189661d163fcd6a56d8bf0405ad636ac1bbedd5cc3ee727dc2ab4a9489');
  });

  it('rejects any flipped bit, wrong AAD or truncation', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.nat(), (data, flip) => {
        const key = Buffer.alloc(32, 7);
        const nonce = Buffer.alloc(12, 9);
        const aad = Buffer.from('tenant-a');
        const sealed = aesGcmEncrypt(key, nonce, Buffer.from(data), aad);
        expect(aesGcmDecrypt(key, nonce, sealed, aad).equals(Buffer.from(data))).toBe(true);
        const bad = Buffer.from(sealed);
        const bit = flip % (bad.length * 8);
        bad[bit >> 3]! ^= 1 << (bit & 7);
        expect(() => aesGcmDecrypt(key, nonce, bad, aad)).toThrow(DecryptError);
        expect(() => aesGcmDecrypt(key, nonce, sealed, Buffer.from('tenant-b'))).toThrow(DecryptError);
        expect(() => aesGcmDecrypt(key, nonce, sealed.subarray(0, sealed.length - 1), aad)).toThrow(DecryptError);
      }),
    );
  });

  it('binds a wrapped key to its owner through the AAD', () => {
    const kek = Buffer.alloc(32, 1);
    const wrapped = wrapKey(kek, Buffer.alloc(32, 2), 'kura-dek-v1|tenant-a|blob-1');
    expect(unwrapKey(kek, wrapped, 'kura-dek-v1|tenant-a|blob-1').equals(Buffer.alloc(32, 2))).toBe(true);
    expect(() => unwrapKey(kek, wrapped, 'kura-dek-v1|tenant-b|blob-1')).toThrow(DecryptError);
  });
});

describe('HKDF-SHA256', () => {
  it('matches RFC 5869 test case 1', () => {
    const okm = hkdfSha256(
      Buffer.from('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b', 'hex'),
      Buffer.from('000102030405060708090a0b0c', 'hex'),
      Buffer.from('f0f1f2f3f4f5f6f7f8f9', 'hex'),
      42,
    );
    expect(okm.toString('hex')).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865');
  });
});

describe('ECDSA P-256 signatures [ENC-04]', () => {
  it('verifies its own signatures and rejects altered data or another key', () => {
    const a = loadSigningKey(generateSigningKeyPem().privateKeyPem);
    const b = loadSigningKey(generateSigningKeyPem().privateKeyPem);
    const sig = a.sign('checkpoint 1');
    expect(Buffer.from(sig, 'base64')).toHaveLength(64);
    expect(verifySignature(a.publicKeyPem, 'checkpoint 1', sig)).toBe(true);
    expect(verifySignature(a.publicKeyPem, 'checkpoint 2', sig)).toBe(false);
    expect(verifySignature(b.publicKeyPem, 'checkpoint 1', sig)).toBe(false);
    expect(verifySignature('not a key', 'checkpoint 1', sig)).toBe(false);
  });
});

describe('local master key file [ENC-01]', () => {
  it('is created with mode 0600 and never overwritten', () => {
    const path = join(dir, 'master.key');
    const p = LocalKeyFileProvider.create(path);
    expect(LocalKeyFileProvider.load(path).keyId).toBe(p.keyId);
    expect(() => LocalKeyFileProvider.create(path)).toThrow(/already exists/);
  });

  it('refuses a group- or world-readable, missing or malformed key file', () => {
    const path = join(dir, 'loose.key');
    LocalKeyFileProvider.create(path);
    chmodSync(path, 0o644);
    expect(() => LocalKeyFileProvider.load(path)).toThrow(/chmod 600/);
    expect(() => LocalKeyFileProvider.load(join(dir, 'absent.key'))).toThrow(MasterKeyError);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'kura-master-key-v1:c2hvcnQ=\n', { mode: 0o600 });
    expect(() => LocalKeyFileProvider.load(bad)).toThrow(/malformed/);
  });
});

describe('tenant keyring [ENC-01] [ENC-03]', () => {
  class MemoryStore implements KekStore<null> {
    rows: KekRecord[] = [];
    async latestVersion(_tx: null, t: string) {
      return Math.max(0, ...this.rows.filter((r) => r.tenantId === t).map((r) => r.version));
    }
    async insert(_tx: null, r: KekRecord) {
      for (const x of this.rows) if (x.tenantId === r.tenantId && x.state === 'active') x.state = 'retired';
      this.rows.push(r);
    }
    async find(t: string, v: number) {
      return this.rows.find((r) => r.tenantId === t && r.version === v);
    }
    async findActive(t: string) {
      return this.rows.find((r) => r.tenantId === t && r.state === 'active');
    }
  }

  it('wraps data keys under versioned tenant keys; old versions still unwrap; destroyed ones never do', async () => {
    const provider = LocalKeyFileProvider.create(join(dir, 'kr.key'));
    const store = new MemoryStore();
    const ring = new TenantKeyring(provider, store);
    expect(await ring.createKek(null, 'tenant-a')).toBe(1);
    const dek = Buffer.alloc(32, 5);
    const w1 = await ring.wrapDek('tenant-a', dek, 'blob-1');
    expect(await ring.createKek(null, 'tenant-a')).toBe(2);
    const w2 = await ring.wrapDek('tenant-a', dek, 'blob-2');
    expect([w1.kekVersion, w2.kekVersion]).toEqual([1, 2]);
    expect((await ring.unwrapDek('tenant-a', 1, w1.wrappedDek, 'blob-1')).equals(dek)).toBe(true);
    await expect(ring.unwrapDek('tenant-a', 1, w1.wrappedDek, 'blob-2')).rejects.toThrow(DecryptError);
    await expect(ring.unwrapDek('tenant-b', 1, w1.wrappedDek, 'blob-1')).rejects.toThrow(/unavailable/);
    store.rows[0]!.state = 'destroyed';
    store.rows[0]!.wrappedKey = null;
    ring.forget('tenant-a');
    await expect(ring.unwrapDek('tenant-a', 1, w1.wrappedDek, 'blob-1')).rejects.toThrow(/unavailable/);
  });
});
