/**
 * Tenants (自治体): creation with the tenant's own audit chain and first KEK in one transaction;
 * the reserved system tenant holds the provider's own events.
 */
import type { Transaction } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { SYSTEM_TENANT_ID, SYSTEM_TENANT_SLUG, systemActor, type Actor, type TenantId } from '../core/types.js';
import type { TenantKeyring } from '../crypto/keyring.js';
import { randomId } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';
import type { DB } from '../db/schema.js';
import type { Tenant, TenantRepository } from './tenant.repository.js';
import { CreateTenantInput, RESERVED_SLUGS } from './tenants.schemas.js';

export interface TenantServiceDeps {
  database: Database;
  tenants: TenantRepository;
  keyring: TenantKeyring<Transaction<DB>>;
  audit: AuditLog;
  clock: Clock;
}

export class TenantService {
  constructor(private readonly deps: TenantServiceDeps) {}

  /** Creates the system tenant and its audit chain if absent (idempotent; run by init and migrate). */
  async ensureSystemTenant(): Promise<void> {
    const { database, tenants, audit, clock, keyring } = this.deps;
    if ((await tenants.findById(SYSTEM_TENANT_ID)) && (await keyring.hasActive(SYSTEM_TENANT_ID))) return;
    await database.transaction(async (trx) => {
      if (await tenants.findById(SYSTEM_TENANT_ID, trx)) {
        // Installations from before operators existed: the provider's tenant gets its key now (operators' TOTP secrets).
        const version = await keyring.createKek(trx, SYSTEM_TENANT_ID);
        await audit.append(trx, systemActor(), {
          action: 'tenant.key_created',
          target: { type: 'tenant', id: SYSTEM_TENANT_ID },
          details: { kekVersion: version },
        });
        return;
      }
      const now = clock.now().toISOString();
      await tenants.insert(
        trx,
        { id: SYSTEM_TENANT_ID, slug: SYSTEM_TENANT_SLUG, displayName: 'Kura provider', status: 'active', createdAt: now },
        {},
      );
      await audit.startChain(trx, SYSTEM_TENANT_ID);
      const kekVersion = await keyring.createKek(trx, SYSTEM_TENANT_ID);
      await audit.append(
        trx,
        { type: 'system', id: 'kura', tenantId: SYSTEM_TENANT_ID },
        { action: 'system.initialised', target: { type: 'tenant', id: SYSTEM_TENANT_ID }, details: { kekVersion } },
      );
    });
  }

  /**
   * Creates a tenant with its KEK version 1 and its own audit chain; the event is written both in
   * the provider's log and as the first entry of the tenant's log.
   */
  async create(actor: Actor, raw: CreateTenantInput): Promise<Tenant> {
    const input = CreateTenantInput.parse(raw);
    if (RESERVED_SLUGS.has(input.slug)) throw new AppError('tenant.slug_reserved', input.slug);
    const { database, tenants, keyring, audit, clock } = this.deps;
    return database.transaction(async (trx) => {
      if (await tenants.findBySlug(input.slug, trx)) throw new AppError('tenant.slug_taken', input.slug);
      const tenant: Tenant = {
        id: randomId() as TenantId,
        slug: input.slug,
        displayName: input.displayName,
        status: 'active',
        createdAt: clock.now().toISOString(),
      };
      await tenants.insert(trx, tenant, {});
      await audit.startChain(trx, tenant.id);
      const kekVersion = await keyring.createKek(trx, tenant.id);
      const target = { type: 'tenant', id: tenant.id };
      const details = { slug: tenant.slug, displayName: tenant.displayName, kekVersion };
      await audit.append(trx, { ...actor, tenantId: SYSTEM_TENANT_ID }, { action: 'tenant.created', target, details });
      await audit.append(trx, { ...actor, tenantId: tenant.id }, { action: 'tenant.created', target, details });
      return tenant;
    });
  }

  async list(): Promise<Tenant[]> {
    return (await this.deps.tenants.list()).filter((t) => t.id !== SYSTEM_TENANT_ID);
  }

  async requireBySlug(slug: string): Promise<Tenant> {
    const t = await this.deps.tenants.findBySlug(slug);
    if (!t) throw new AppError('tenant.not_found', slug);
    return t;
  }
}
