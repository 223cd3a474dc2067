import type { ServiceKeyRecord, ServiceKeyStore } from '../crypto/service-keys.js';
import type { Executor } from './database.js';

/** Database storage of wrapped service keys (see crypto/service-keys.ts). */
export class ServiceKeyRepository implements ServiceKeyStore {
  constructor(
    private readonly db: Executor,
    private readonly now: () => Date,
  ) {}

  async find(purpose: string): Promise<ServiceKeyRecord | undefined> {
    const row = await this.db
      .selectFrom('service_keys')
      .select(['purpose', 'key_id', 'wrapped_key', 'public_key', 'master_key_id'])
      .where('purpose', '=', purpose)
      .executeTakeFirst();
    return row
      ? {
          purpose: row.purpose,
          keyId: row.key_id,
          wrappedKey: Buffer.from(row.wrapped_key),
          publicKey: row.public_key,
          masterKeyId: row.master_key_id,
        }
      : undefined;
  }

  async insertIfAbsent(r: ServiceKeyRecord): Promise<void> {
    await this.db
      .insertInto('service_keys')
      .values({
        purpose: r.purpose,
        key_id: r.keyId,
        wrapped_key: r.wrappedKey,
        public_key: r.publicKey,
        master_key_id: r.masterKeyId,
        created_at: this.now().toISOString(),
      })
      .onConflict((oc) => oc.column('purpose').doNothing())
      .execute();
  }

  async publicKeys(): Promise<Array<{ keyId: string; publicKey: string }>> {
    const rows = await this.db
      .selectFrom('service_keys')
      .select(['key_id', 'public_key'])
      .where('public_key', 'is not', null)
      .execute();
    return rows.map((r) => ({ keyId: r.key_id, publicKey: r.public_key! }));
  }
}
