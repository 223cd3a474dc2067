/**
 * The customer lockbox (AC-07): provider operators have no access to tenant data by default. An
 * operator asks for time-limited (≤ 4 h) read access with a reason; a tenant admin approves or
 * denies; while approved, the operator's requests are recorded in the tenant's own audit log and
 * the grant is visible to the tenant; the admin can revoke it at any time.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { SYSTEM_TENANT_ID, type Actor } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { Database, Executor } from '../db/database.js';
import type { SupportGrantsTable } from '../db/schema.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';

export const MAX_GRANT_MINUTES = 240;

export interface GrantView {
  id: string;
  tenant: { id: string; slug: string };
  operatorId: string;
  reason: string;
  durationMinutes: number;
  state: SupportGrantsTable['state'] | 'expired';
  requestedAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  expiresAt: string | null;
}

export class SupportGrantService {
  constructor(private readonly deps: { database: Database; clock: Clock; audit: AuditLog; tenants: TenantRepository }) {}

  private get db(): Executor {
    return this.deps.database.db;
  }

  private async view(g: SupportGrantsTable): Promise<GrantView> {
    const t = await this.deps.tenants.findById(g.tenant_id);
    const expired = g.state === 'approved' && g.expires_at !== null && g.expires_at <= this.deps.clock.now().toISOString();
    return {
      id: g.id,
      tenant: { id: g.tenant_id, slug: t?.slug ?? '' },
      operatorId: g.operator_id,
      reason: g.reason,
      durationMinutes: Number(g.duration_minutes),
      state: expired ? 'expired' : g.state,
      requestedAt: g.requested_at,
      decidedBy: g.decided_by,
      decidedAt: g.decided_at,
      expiresAt: g.expires_at,
    };
  }

  /** An operator's request; recorded in the tenant's log and the provider's. */
  async request(operator: Actor, input: { tenant: string; reason: string; durationMinutes: number }): Promise<GrantView> {
    const tenant = await this.deps.tenants.findBySlug(input.tenant);
    if (!tenant || tenant.id === SYSTEM_TENANT_ID) throw new AppError('tenant.not_found');
    const row: SupportGrantsTable = {
      id: randomId(),
      tenant_id: tenant.id,
      operator_id: operator.id!,
      reason: input.reason,
      duration_minutes: Math.min(input.durationMinutes, MAX_GRANT_MINUTES),
      state: 'requested',
      requested_at: this.deps.clock.now().toISOString(),
      decided_by: null,
      decided_at: null,
      expires_at: null,
    };
    await this.deps.database.transaction(async (trx) => {
      await trx.insertInto('support_grants').values(row).execute();
      const details = { reason: row.reason, durationMinutes: row.duration_minutes, operator: operator.id };
      await this.deps.audit.append(
        trx,
        { ...operator, type: 'operator', tenantId: tenant.id },
        { action: 'support.requested', target: { type: 'support_grant', id: row.id }, details },
      );
      await this.deps.audit.append(trx, operator, {
        action: 'support.requested',
        target: { type: 'tenant', id: tenant.id },
        details: { ...details, grant: row.id },
      });
    });
    return this.view(row);
  }

  async listForTenant(tenantId: string): Promise<GrantView[]> {
    const rows = await this.db
      .selectFrom('support_grants')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('requested_at', 'desc')
      .execute();
    return Promise.all(rows.map((r) => this.view(r)));
  }

  async listForOperator(operatorId: string): Promise<GrantView[]> {
    const rows = await this.db
      .selectFrom('support_grants')
      .selectAll()
      .where('operator_id', '=', operatorId)
      .orderBy('requested_at', 'desc')
      .execute();
    return Promise.all(rows.map((r) => this.view(r)));
  }

  /** Approve, deny or revoke by a tenant admin (never by the operator). */
  async decide(admin: Actor, grantId: string, decision: 'approve' | 'deny' | 'revoke'): Promise<GrantView> {
    const row = await this.deps.database.transaction(async (trx) => {
      const g = await trx
        .selectFrom('support_grants')
        .selectAll()
        .where('tenant_id', '=', admin.tenantId)
        .where('id', '=', grantId)
        .executeTakeFirst();
      if (!g) throw new AppError('support.grant_not_found');
      const from: SupportGrantsTable['state'][] = decision === 'revoke' ? ['approved'] : ['requested'];
      if (!from.includes(g.state)) throw new AppError('support.invalid_state');
      const now = this.deps.clock.now();
      const set =
        decision === 'approve'
          ? {
              state: 'approved' as const,
              decided_by: admin.id,
              decided_at: now.toISOString(),
              expires_at: new Date(now.getTime() + Number(g.duration_minutes) * 60_000).toISOString(),
            }
          : decision === 'deny'
            ? { state: 'denied' as const, decided_by: admin.id, decided_at: now.toISOString() }
            : { state: 'revoked' as const, expires_at: now.toISOString() };
      await trx
        .updateTable('support_grants')
        .set(set)
        .where('tenant_id', '=', admin.tenantId)
        .where('id', '=', grantId)
        .execute();
      await this.deps.audit.append(trx, admin, {
        action: `support.${decision === 'approve' ? 'approved' : decision === 'deny' ? 'denied' : 'revoked'}`,
        target: { type: 'support_grant', id: grantId },
        details: { operator: g.operator_id, ...('expires_at' in set ? { expiresAt: set.expires_at } : {}) },
      });
      return { ...g, ...set };
    });
    return this.view(row);
  }

  /** The live grant that lets this operator into this tenant now, or undefined. */
  async activeGrant(tenantId: string, operatorId: string): Promise<SupportGrantsTable | undefined> {
    return this.db
      .selectFrom('support_grants')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('operator_id', '=', operatorId)
      .where('state', '=', 'approved')
      .where('expires_at', '>', this.deps.clock.now().toISOString())
      .executeTakeFirst();
  }

  /** Records an operator's request inside a tenant, in that tenant's log (visible to the tenant). */
  async recordUse(actor: Actor, grantId: string, method: string, route: string): Promise<void> {
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'support.accessed',
        target: { type: 'support_grant', id: grantId },
        details: { method, route },
      }),
    );
  }
}
