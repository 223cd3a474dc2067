/**
 * Tenant settings as policy: read with defaults filled in, changed only by a tenant admin with an
 * audit event that records what changed (before/after), in the same transaction.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { canonicalSerial, parseCaBundle } from '../crypto/certificates.js';
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

  /**
   * The two-person rule (AC-01) guards its own removal: an admin who turns it off only records a
   * request (the rule stays on); a different admin turning it off within a week confirms it. The
   * request is the server's to set: whatever the input says is replaced. System actors (the CLI,
   * the provider's tooling) change it directly. Adjusts `next`; returns the audit event to write.
   */
  private twoPersonRuleChange(
    actor: Actor,
    before: TenantSettings,
    next: TenantSettings,
  ): { action: string; details: Record<string, unknown> } | null {
    const pending = before.twoPersonRuleOffRequest;
    const now = this.deps.clock.now();
    const live = pending !== null && Date.parse(pending.at) > now.getTime() - TWO_PERSON_OFF_REQUEST_MS ? pending : null;
    next.twoPersonRuleOffRequest = before.twoPersonRule ? live : null;
    if (!(before.twoPersonRule && !next.twoPersonRule) || actor.type !== 'user') {
      if (!next.twoPersonRule) next.twoPersonRuleOffRequest = null;
      return null;
    }
    if (live && live.by !== actor.id) {
      next.twoPersonRuleOffRequest = null;
      return { action: 'tenant.two_person_rule_disabled', details: { requestedBy: live.by, approvedBy: actor.id } };
    }
    next.twoPersonRule = true;
    next.twoPersonRuleOffRequest = live ?? { by: String(actor.id), at: now.toISOString() };
    return live ? null : { action: 'tenant.two_person_rule_off_requested', details: { requestedBy: actor.id } };
  }

  /** The version of a tenant's settings, for ETag / If-Match: a save from an older read is refused. */
  static tagOf(settings: TenantSettings): string {
    return `"${sha256Hex(JSON.stringify(settings)).slice(0, 32)}"`;
  }

  /**
   * Replaces the settings (validated as a whole); records the changed top-level sections before and
   * after. With `ifMatch` (the tag of the settings the caller read), refused with
   * 409 `tenant.settings_conflict` when they changed meanwhile, instead of silently undoing the
   * other administrator's change.
   */
  async update(actor: Actor, input: unknown, ifMatch?: string | null): Promise<TenantSettings> {
    const parsed = TenantSettings.safeParse(withCanonicalSerials(input));
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
      // One change at a time per tenant: the audit event's "before" is what this change replaced,
      // even when two admins save at once (PostgreSQL reads committed data; SQLite has one writer).
      await this.deps.database.lock(trx, `kura.settings:${actor.tenantId}`);
      const json = await this.deps.tenants.settingsJson(actor.tenantId, trx);
      if (json === undefined) throw new AppError('tenant.not_found');
      const before = parseSettings(json);
      if (ifMatch && ifMatch !== TenantPolicyService.tagOf(before)) throw new AppError('tenant.settings_conflict');
      const ruleEvent = this.twoPersonRuleChange(actor, before, next);
      // A changed acceptable-use text is a new version that every user accepts again (HR-03).
      if (next.acceptableUse.text !== before.acceptableUse.text && next.acceptableUse.version <= before.acceptableUse.version) {
        next.acceptableUse = { ...next.acceptableUse, version: before.acceptableUse.version + 1 };
      }
      const changed = (Object.keys(next) as Array<keyof TenantSettings>).filter(
        (k) => JSON.stringify(before[k]) !== JSON.stringify(next[k]),
      );
      if (changed.length === 0) return before;
      await this.deps.tenants.updateSettings(trx, actor.tenantId, JSON.stringify(next), this.deps.clock.now().toISOString());
      if (ruleEvent) await this.deps.audit.append(trx, actor, { ...ruleEvent, target: { type: 'tenant', id: actor.tenantId } });
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

/** Switching the two-person rule off takes a week at most to be confirmed by a second admin. */
export const TWO_PERSON_OFF_REQUEST_MS = 7 * 86_400_000;

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
    return { caSha256: v.caPem ? sha256Hex(v.caPem) : null, requiredFor: v.requiredFor, revokedSerials: v.revokedSerials };
  }
  return value;
}

/** Revoked device serials as administrators write them, put in the one form the settings keep. */
function withCanonicalSerials(input: unknown): unknown {
  const device = (input as { deviceCerts?: { revokedSerials?: unknown } } | null)?.deviceCerts;
  if (!device || !Array.isArray(device.revokedSerials)) return input;
  const revokedSerials = device.revokedSerials.map((s) => (typeof s === 'string' ? canonicalSerial(s) : s));
  return { ...(input as object), deviceCerts: { ...device, revokedSerials } };
}
