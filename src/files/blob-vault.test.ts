import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../core/errors.js';
import { LocalKeyFileProvider } from '../crypto/key-provider.js';
import { TenantKeyring, type KekRecord, type KekStore } from '../crypto/keyring.js';
import type { BlobStore } from '../storage/blob-store.js';
import { FsBlobStore } from '../storage/fs-blob-store.js';
import { BlobVault, type BlobVaultDeps } from './blob-vault.js';

const dir = mkdtempSync(join(tmpdir(), 'kura-vault-'));
const TENANT = '7d0c8f4e-2b1a-4c3d-9e8f-0a1b2c3d4e5f';
afterAll(() => rmSync(dir, { recursive: true, force: true }));

class MemoryKekStore implements KekStore<null> {
  rows: KekRecord[] = [];
  async latestVersion(_tx: null, t: string) {
    return Math.max(0, ...this.rows.filter((r) => r.tenantId === t).map((r) => r.version));
  }
  async insert(_tx: null, r: KekRecord) {
    this.rows.push(r);
  }
  async find(t: string, v: number) {
    return this.rows.find((r) => r.tenantId === t && r.version === v);
  }
  async findActive(t: string) {
    return this.rows.find((r) => r.tenantId === t && r.state === 'active');
  }
}

async function vaultOver(Store: new (root: string) => BlobStore): Promise<{ vault: BlobVault; root: string }> {
  const root = mkdtempSync(join(dir, 'store-'));
  // The vault is typed for database transactions; this in-memory KEK store needs none.
  const keyring = new TenantKeyring(LocalKeyFileProvider.create(join(root, 'master.key')), new MemoryKekStore());
  await keyring.createKek(null, TENANT);
  return {
    vault: new BlobVault({ store: new Store(join(root, 'blobs')), keyring: keyring as unknown as BlobVaultDeps['keyring'] }),
    root,
  };
}

/** The real local store, whose disk fails once it has taken 1 MiB (injected). */
class FailingMidWrite extends FsBlobStore {
  override put(key: string, body: Readable): Promise<{ size: number }> {
    let seen = 0;
    const failing = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        cb(seen > 1024 * 1024 ? new Error('disk failed (injected)') : null, chunk);
      },
    });
    body.on('error', (err) => failing.destroy(err));
    return super.put(key, body.pipe(failing));
  }
}

/** A store that refuses before taking a byte (injected). */
class Unavailable extends FsBlobStore {
  override async put(): Promise<{ size: number }> {
    throw new Error('store unavailable (injected)');
  }
}

/** A request body of `n` chunks of 64 KiB. */
function body(n: number): Readable {
  let i = 0;
  return new Readable({
    read() {
      this.push(i++ < n ? Buffer.alloc(64 * 1024, i) : null);
    },
  });
}

/** Blob files under the store's root, staging files included. */
function files(root: string): string[] {
  return readdirSync(join(root, 'blobs'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('BlobVault.write when the store or the body fails [TLS-02]', () => {
  it("reports the store's own error when it fails mid-write, not the abort it causes upstream, and leaves no blob", async () => {
    const { vault, root } = await vaultOver(FailingMidWrite);
    const input = body(64);
    await expect(vault.write(TENANT, input)).rejects.toThrow('disk failed (injected)');
    expect(input.destroyed).toBe(true);
    expect(files(root)).toEqual([]);
  });

  it('stops reading the body when the store fails before taking a byte, instead of hanging', async () => {
    const { vault } = await vaultOver(Unavailable);
    const input = body(1024);
    await expect(vault.write(TENANT, input)).rejects.toThrow('store unavailable (injected)');
    expect(input.destroyed).toBe(true);
  });

  it('reports upload.too_large past the limit and removes what was stored', async () => {
    const { vault, root } = await vaultOver(FsBlobStore);
    const err = await vault.write(TENANT, body(40), 1024 * 1024).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('upload.too_large');
    expect(files(root)).toEqual([]);
  });

  it('stores a whole body and reports its size and SHA-256', async () => {
    const { vault } = await vaultOver(FsBlobStore);
    const stored = await vault.write(TENANT, body(20));
    expect(stored.plainSize).toBe(20 * 64 * 1024);
    expect(stored.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
