/** Exports the tenant's effective authentication policy (AC-14): versioned, audited, JSON or PDF. */
import type { AuditLog } from '../audit/audit-log.js';
import type { AuditRepository } from '../audit/audit.repository.js';
import type { Clock } from '../core/clock.js';
import type { Actor } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import { buildAuthPolicyDocument, renderAuthPolicyPdf, type AuthPolicyDocument } from './auth-policy-export.js';

export class AuthPolicyService {
  constructor(
    private readonly deps: {
      database: Database;
      clock: Clock;
      audit: AuditLog;
      auditRepository: AuditRepository;
      policy: TenantPolicyService;
    },
  ) {}

  async export(
    actor: Actor,
    tenant: { slug: string; displayName: string },
    format: 'json' | 'pdf',
  ): Promise<{ document: AuthPolicyDocument; pdf?: Buffer }> {
    const settings = await this.deps.policy.get(actor.tenantId);
    // Version = 1 + the number of recorded policy changes of this tenant.
    const version = 1 + (await this.deps.auditRepository.countByAction(actor.tenantId, 'tenant.settings_changed'));
    const document = buildAuthPolicyDocument(tenant, settings, version, this.deps.clock.now().toISOString());
    const pdf = format === 'pdf' ? await renderAuthPolicyPdf(document) : undefined;
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'tenant.auth_policy_exported',
        target: { type: 'tenant', id: actor.tenantId },
        details: { format, version, contentHash: document.contentHash },
      }),
    );
    return { document, ...(pdf ? { pdf } : {}) };
  }
}
