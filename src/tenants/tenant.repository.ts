import type { Executor } from '../db/database.js';
import type { TenantsTable } from '../db/schema.js';
import type { TenantId } from '../core/types.js';

export interface Tenant {
  id: TenantId;
  slug: string;
  displayName: string;
  status: TenantsTable['status'];
  createdAt: string;
}

const COLUMNS = ['id', 'slug', 'display_name', 'status', 'created_at'] as const;

function toTenant(row: Pick<TenantsTable, (typeof COLUMNS)[number]>): Tenant {
  return {
    id: row.id as TenantId,
    slug: row.slug,
    displayName: row.display_name,
    status: row.status,
    createdAt: row.created_at,
  };
}

/** The tenants table. Lookups by id or slug; the tenant id is the key itself. */
export class TenantRepository {
  constructor(private readonly db: Executor) {}

  async insert(trx: Executor, t: Tenant, settings: Record<string, unknown>): Promise<void> {
    await trx
      .insertInto('tenants')
      .values({
        id: t.id,
        slug: t.slug,
        display_name: t.displayName,
        status: t.status,
        settings: JSON.stringify(settings),
        created_at: t.createdAt,
        updated_at: t.createdAt,
      })
      .execute();
  }

  async findById(tenantId: string, exec: Executor = this.db): Promise<Tenant | undefined> {
    const row = await exec.selectFrom('tenants').select(COLUMNS).where('id', '=', tenantId).executeTakeFirst();
    return row ? toTenant(row) : undefined;
  }

  async findBySlug(slug: string, exec: Executor = this.db): Promise<Tenant | undefined> {
    const row = await exec.selectFrom('tenants').select(COLUMNS).where('slug', '=', slug).executeTakeFirst();
    return row ? toTenant(row) : undefined;
  }

  async list(exec: Executor = this.db): Promise<Tenant[]> {
    const rows = await exec.selectFrom('tenants').select(COLUMNS).orderBy('created_at').orderBy('slug').execute();
    return rows.map(toTenant);
  }

  async settingsJson(tenantId: string, exec: Executor = this.db): Promise<string | undefined> {
    const row = await exec.selectFrom('tenants').select('settings').where('id', '=', tenantId).executeTakeFirst();
    return row?.settings;
  }

  async updateSettings(trx: Executor, tenantId: string, settingsJson: string, at: string): Promise<void> {
    await trx.updateTable('tenants').set({ settings: settingsJson, updated_at: at }).where('id', '=', tenantId).execute();
  }

  async ids(exec: Executor = this.db): Promise<string[]> {
    const rows = await exec.selectFrom('tenants').select('id').orderBy('id').execute();
    return rows.map((r) => r.id);
  }
}
