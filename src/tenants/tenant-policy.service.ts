/**
 * Tenant settings as policy: read with defaults filled in, changed only by a tenant admin with an
 * audit event that records what changed (before/after), in the same transaction.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { parseCaBundle } from '../crypto/certificates.js';
import { sha256Hex } from '../crypto/primitives.js';
import type { Actor } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { TenantRepository } from './tenant.repository.js';
import { TenantSettings, parseSettings } from './tenant-settings.js';

export interface TenantPolicyServiceDeps {
  database: Database;
  tenants: TenantRepository;
  audit: AuditLog;
  clock: Clock;
}

export class TenantPolicyService {
  constructor(private readonly deps: TenantPolicyServiceDeps) {}

  async get(tenantId: string): Promise<TenantSettings> {
    const json = await this.deps.tenants.settingsJson(tenantId);
    if (json === undefined) throw new AppError('tenant.not_found');
    return parseSettings(json);
  }

  /** Replaces the settings (validated as a whole); records the changed top-level sections before and after. */
  async update(actor: Actor, input: unknown): Promise<TenantSettings> {
    const parsed = TenantSettings.safeParse(input);
    if (!parsed.success) {
      throw new AppError(
        'tenant.settings_invalid',
        undefined,
        parsed.error.issues.map((i) => i.path.join('.')),
      );
    }
    const next = parsed.data;
    if (next.deviceCerts.caPem) {
      try {
        parseCaBundle(next.deviceCerts.caPem);
      } catch {
        throw new AppError('tenant.settings_invalid', 'device CA', ['deviceCerts.caPem']);
      }
    }
    if (next.deviceCerts.requiredFor.length > 0 && !next.deviceCerts.caPem) {
      throw new AppError('tenant.settings_invalid', 'device certificates required without a CA', ['deviceCerts.caPem']);
    }
    return this.deps.database.transaction(async (trx) => {
      const json = await this.deps.tenants.settingsJson(actor.tenantId, trx);
      if (json === undefined) throw new AppError('tenant.not_found');
      const before = parseSettings(json);
      // A changed acceptable-use text is a new version that every user accepts again (HR-03).
      if (next.acceptableUse.text !== before.acceptableUse.text && next.acceptableUse.version <= before.acceptableUse.version) {
        next.acceptableUse = { ...next.acceptableUse, version: before.acceptableUse.version + 1 };
      }
      const changed = (Object.keys(next) as Array<keyof TenantSettings>).filter(
        (k) => JSON.stringify(before[k]) !== JSON.stringify(next[k]),
      );
      if (changed.length === 0) return before;
      await this.deps.tenants.updateSettings(trx, actor.tenantId, JSON.stringify(next), this.deps.clock.now().toISOString());
      await this.deps.audit.append(trx, actor, {
        action: 'tenant.settings_changed',
        target: { type: 'tenant', id: actor.tenantId },
        details: {
          changed,
          before: Object.fromEntries(changed.map((k) => [k, forAudit(k, before[k])])),
          after: Object.fromEntries(changed.map((k) => [k, forAudit(k, next[k])])),
        },
      });
      return next;
    });
  }
}

/**
 * Long texts (the acceptable-use notice, a CA bundle) are recorded by their SHA-256 and length, so
 * the audit entry proves what changed without exceeding an entry's size.
 */
function forAudit<K extends keyof TenantSettings>(key: K, value: TenantSettings[K]): unknown {
  if (key === 'acceptableUse') {
    const v = value as TenantSettings['acceptableUse'];
    return { version: v.version, textSha256: sha256Hex(v.text), textLength: v.text.length };
  }
  if (key === 'deviceCerts') {
    const v = value as TenantSettings['deviceCerts'];
    return { caSha256: v.caPem ? sha256Hex(v.caPem) : null, requiredFor: v.requiredFor };
  }
  return value;
}
