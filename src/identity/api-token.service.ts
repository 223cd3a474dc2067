/**
 * Personal API tokens (AC-15): scoped, expiring (tenant maximum, default 90 days), shown once and
 * stored as SHA-256, listable and revocable by the owner and tenant admins, usage recorded.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor, Zone } from '../core/types.js';
import { randomId, randomToken, sha256Hex } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';
import type { ApiTokensTable } from '../db/schema.js';
import { requireFeature } from '../tenants/feature-guard.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import type { ApiTokenRepository } from './api-token.repository.js';

export const TOKEN_SCOPES = ['me:read', 'users:read', 'files:read', 'files:write', 'audit:read'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];
export const TOKEN_PREFIX = 'kura_';
/** A token's use is written to the audit log at most this often (each use updates last-used). */
const USE_AUDIT_INTERVAL_MS = 3_600_000;

export interface TokenView {
  id: string;
  userId: string;
  name: string;
  scopes: TokenScope[];
  expiresAt: string;
  createdAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  revoked: boolean;
}

function view(r: ApiTokensTable): TokenView {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    scopes: JSON.parse(r.scopes) as TokenScope[],
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    lastUsedAt: r.last_used_at,
    lastUsedIp: r.last_used_ip,
    revoked: r.revoked_at !== null,
  };
}

export class ApiTokenService {
  constructor(private readonly deps: { database: Database; clock: Clock; audit: AuditLog; tokens: ApiTokenRepository }) {}

  async create(
    actor: Actor,
    settings: TenantSettings,
    zone: Zone,
    input: { name: string; scopes: TokenScope[]; expiresInDays?: number | undefined },
  ): Promise<{ token: string; view: TokenView }> {
    requireFeature(settings, zone, 'api_tokens');
    const days = input.expiresInDays ?? settings.features.maxApiTokenDays;
    if (days > settings.features.maxApiTokenDays)
      throw new AppError('request.invalid', 'expiry beyond the tenant maximum', ['expiresInDays']);
    const token = `${TOKEN_PREFIX}${randomToken(32)}`;
    const now = this.deps.clock.now();
    const row: ApiTokensTable = {
      id: randomId(),
      tenant_id: actor.tenantId,
      user_id: actor.id!,
      name: input.name,
      token_hash: sha256Hex(token),
      scopes: JSON.stringify([...new Set(input.scopes)].sort()),
      expires_at: new Date(now.getTime() + days * 86_400_000).toISOString(),
      created_at: now.toISOString(),
      last_used_at: null,
      last_used_ip: null,
      revoked_at: null,
    };
    await this.deps.database.transaction(async (trx) => {
      await this.deps.tokens.insert(trx, row);
      await this.deps.audit.append(trx, actor, {
        action: 'api_token.created',
        target: { type: 'api_token', id: row.id },
        details: { name: row.name, scopes: JSON.parse(row.scopes), expiresAt: row.expires_at },
      });
    });
    return { token, view: view(row) };
  }

  async list(tenantId: string, userId?: string): Promise<TokenView[]> {
    return (await this.deps.tokens.list(tenantId, userId)).map(view);
  }

  /** Revokes a token; `ownerId` limits it to the owner's own tokens (another's is a 404). */
  async revoke(actor: Actor, id: string, ownerId?: string): Promise<void> {
    await this.deps.database.transaction(async (trx) => {
      const t = await this.deps.tokens.find(actor.tenantId, id, trx);
      if (!t || (ownerId && t.user_id !== ownerId)) throw new AppError('route.not_found');
      if (!(await this.deps.tokens.revoke(trx, actor.tenantId, id, this.deps.clock.now().toISOString()))) return;
      await this.deps.audit.append(trx, actor, {
        action: 'api_token.revoked',
        target: { type: 'api_token', id },
        details: { owner: t.user_id },
      });
    });
  }

  /** The live token for a bearer value, or null; records the use. */
  async resolve(
    bearer: string,
    ip: string | null,
    actorFor: (t: ApiTokensTable) => Actor,
  ): Promise<{ row: ApiTokensTable; scopes: TokenScope[] } | null> {
    if (!bearer.startsWith(TOKEN_PREFIX) || bearer.length > 100) return null;
    const row = await this.deps.tokens.findByHash(sha256Hex(bearer));
    const now = this.deps.clock.now();
    if (!row || row.revoked_at || row.expires_at <= now.toISOString()) return null;
    const auditUse = !row.last_used_at || now.getTime() - Date.parse(row.last_used_at) >= USE_AUDIT_INTERVAL_MS;
    await this.deps.database.transaction(async (trx) => {
      await this.deps.tokens.markUsed(trx, row.tenant_id, row.id, now.toISOString(), ip);
      if (auditUse)
        await this.deps.audit.append(trx, actorFor(row), { action: 'api_token.used', target: { type: 'api_token', id: row.id } });
    });
    return { row, scopes: JSON.parse(row.scopes) as TokenScope[] };
  }
}
