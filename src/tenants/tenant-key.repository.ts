import type { Transaction } from 'kysely';
import type { KekRecord, KekStore } from '../crypto/keyring.js';
import type { Executor } from '../db/database.js';
import type { DB } from '../db/schema.js';

/** Wrapped tenant KEKs (design §5); tenant id first in every method. */
export class TenantKeyRepository implements KekStore<Transaction<DB>> {
  constructor(
    private readonly db: Executor,
    private readonly now: () => Date,
  ) {}

  async latestVersion(trx: Transaction<DB>, tenantId: string): Promise<number> {
    const row = await trx
      .selectFrom('tenant_keys')
      .select((eb) => eb.fn.max('version').as('v'))
      .where('tenant_id', '=', tenantId)
      .executeTakeFirst();
    return Number(row?.v ?? 0);
  }

  async insert(trx: Transaction<DB>, r: KekRecord): Promise<void> {
    await trx
      .updateTable('tenant_keys')
      .set({ state: 'retired' })
      .where('tenant_id', '=', r.tenantId)
      .where('state', '=', 'active')
      .execute();
    await trx
      .insertInto('tenant_keys')
      .values({
        tenant_id: r.tenantId,
        version: r.version,
        wrapped_key: r.wrappedKey,
        master_key_id: r.masterKeyId,
        state: r.state,
        created_at: this.now().toISOString(),
        destroyed_at: null,
      })
      .execute();
  }

  /** Erases a retired version's wrapped key for good; false when it was not retired. */
  async destroy(trx: Transaction<DB>, tenantId: string, version: number): Promise<boolean> {
    const r = await trx
      .updateTable('tenant_keys')
      .set({ state: 'destroyed', wrapped_key: null, destroyed_at: this.now().toISOString() })
      .where('tenant_id', '=', tenantId)
      .where('version', '=', version)
      .where('state', '=', 'retired')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async find(tenantId: string, version: number): Promise<KekRecord | undefined> {
    const row = await this.db
      .selectFrom('tenant_keys')
      .select(['tenant_id', 'version', 'wrapped_key', 'master_key_id', 'state'])
      .where('tenant_id', '=', tenantId)
      .where('version', '=', version)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async findActive(tenantId: string): Promise<KekRecord | undefined> {
    const row = await this.db
      .selectFrom('tenant_keys')
      .select(['tenant_id', 'version', 'wrapped_key', 'master_key_id', 'state'])
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'active')
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }
}

function toRecord(row: {
  tenant_id: string;
  version: number;
  wrapped_key: Buffer | null;
  master_key_id: string;
  state: KekRecord['state'];
}): KekRecord {
  return {
    tenantId: row.tenant_id,
    version: row.version,
    wrappedKey: row.wrapped_key ? Buffer.from(row.wrapped_key) : null,
    masterKeyId: row.master_key_id,
    state: row.state,
  };
}
