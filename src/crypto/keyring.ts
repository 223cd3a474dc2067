/**
 * Tenant key-encryption keys (design §5): one active KEK version per tenant, wrapped by the master
 * key with AAD = tenant id + version; data keys (DEKs) are wrapped by a KEK with AAD = tenant id +
 * blob id. Destroying every KEK version of a tenant crypto-shreds its data (END-03).
 */
import type { KeyProvider } from './key-provider.js';
import { AEAD_KEY_BYTES, randomBytes, unwrapKey, wrapKey } from './primitives.js';

export type KekState = 'active' | 'retired' | 'destroyed';

export interface KekRecord {
  tenantId: string;
  version: number;
  wrappedKey: Buffer | null;
  masterKeyId: string;
  state: KekState;
}

/** Storage of wrapped KEKs; `Tx` is the caller's transaction type so the keyring stays DB-agnostic. */
export interface KekStore<Tx> {
  latestVersion(tx: Tx, tenantId: string): Promise<number>;
  insert(tx: Tx, record: KekRecord): Promise<void>;
  find(tenantId: string, version: number): Promise<KekRecord | undefined>;
  findActive(tenantId: string): Promise<KekRecord | undefined>;
}

export class KeyUnavailableError extends Error {
  constructor(tenantId: string, version?: number) {
    super(`key unavailable for tenant ${tenantId}${version === undefined ? '' : ` version ${version}`}`);
    this.name = 'KeyUnavailableError';
  }
}

export interface WrappedDek {
  kekVersion: number;
  wrappedDek: Buffer;
}

export class TenantKeyring<Tx> {
  private readonly cache = new Map<string, Buffer>();

  constructor(
    private readonly provider: KeyProvider,
    private readonly store: KekStore<Tx>,
  ) {}

  /** Creates the next KEK version for a tenant inside the caller's transaction; returns the version. */
  async createKek(tx: Tx, tenantId: string): Promise<number> {
    const version = (await this.store.latestVersion(tx, tenantId)) + 1;
    const kek = randomBytes(AEAD_KEY_BYTES);
    const wrappedKey = await this.provider.wrap(kek, kekAad(tenantId, version));
    await this.store.insert(tx, { tenantId, version, wrappedKey, masterKeyId: this.provider.keyId, state: 'active' });
    return version;
  }

  async hasActive(tenantId: string): Promise<boolean> {
    return Boolean(await this.store.findActive(tenantId));
  }

  /** Wraps a fresh data key under the tenant's active KEK. */
  async wrapDek(tenantId: string, dek: Buffer, blobId: string): Promise<WrappedDek> {
    const record = await this.store.findActive(tenantId);
    if (!record) throw new KeyUnavailableError(tenantId);
    const kek = await this.kek(record);
    return { kekVersion: record.version, wrappedDek: wrapKey(kek, dek, dekAad(tenantId, blobId)) };
  }

  async unwrapDek(tenantId: string, kekVersion: number, wrappedDek: Buffer, blobId: string): Promise<Buffer> {
    const record = await this.store.find(tenantId, kekVersion);
    if (!record) throw new KeyUnavailableError(tenantId, kekVersion);
    return unwrapKey(await this.kek(record), wrappedDek, dekAad(tenantId, blobId));
  }

  /** Forgets cached plaintext KEKs (after rotation or destruction). */
  forget(tenantId?: string): void {
    if (!tenantId) return this.cache.clear();
    for (const k of this.cache.keys()) if (k.startsWith(`${tenantId}:`)) this.cache.delete(k);
  }

  private async kek(record: KekRecord): Promise<Buffer> {
    if (record.state === 'destroyed' || !record.wrappedKey) throw new KeyUnavailableError(record.tenantId, record.version);
    const cacheKey = `${record.tenantId}:${record.version}`;
    let kek = this.cache.get(cacheKey);
    if (!kek) {
      kek = await this.provider.unwrap(record.wrappedKey, kekAad(record.tenantId, record.version));
      this.cache.set(cacheKey, kek);
    }
    return kek;
  }
}

function kekAad(tenantId: string, version: number): string {
  return `kura-kek-v1|${tenantId}|${version}`;
}

function dekAad(tenantId: string, blobId: string): string {
  return `kura-dek-v1|${tenantId}|${blobId}`;
}
