/**
 * Server-side sessions (AC-13): a random 256-bit token in the `__Host-kura` cookie, only its
 * SHA-256 stored; bound to the zone it was created on; idle and absolute timeouts from the tenant
 * policy; a CSRF token per session; revocation takes effect on the next request.
 */
import type { Clock } from '../core/clock.js';
import type { Zone } from '../core/types.js';
import { randomToken, sha256Hex } from '../crypto/primitives.js';
import type { Executor } from '../db/database.js';
import type { SessionsTable, SessionStage } from '../db/schema.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import type { SessionRepository } from './session.repository.js';

export const SESSION_COOKIE = '__Host-kura';
/** A session's idle expiry is pushed forward at most this often (saves a write per request). */
const TOUCH_INTERVAL_MS = 30_000;

export interface RequestOrigin {
  zone: Zone;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
  /** DER of the TLS client certificate, when the listener asked for one and the client sent it (AC-11). */
  clientCert?: Buffer | null;
}

export interface NewSession {
  token: string;
  session: SessionsTable;
}

export class SessionService {
  constructor(private readonly deps: { sessions: SessionRepository; clock: Clock }) {}

  async create(
    trx: Executor,
    user: { tenantId: string; id: string },
    settings: TenantSettings,
    origin: RequestOrigin,
    stage: SessionStage,
  ): Promise<NewSession> {
    const now = this.deps.clock.now();
    const token = randomToken(32);
    const session: SessionsTable = {
      id: sha256Hex(token),
      tenant_id: user.tenantId,
      user_id: user.id,
      stage,
      zone: origin.zone,
      ip: origin.ip,
      user_agent: origin.userAgent?.slice(0, 512) ?? null,
      csrf_token: randomToken(32),
      created_at: now.toISOString(),
      last_seen_at: now.toISOString(),
      idle_expires_at: new Date(now.getTime() + settings.session.idleMinutes * 60_000).toISOString(),
      absolute_expires_at: new Date(now.getTime() + settings.session.absoluteHours * 3_600_000).toISOString(),
      mfa_at: null,
      revoked_at: null,
      revoked_reason: null,
      webauthn_challenge: null,
      prev_login_at: null,
      prev_login_ip: null,
      prev_login_zone: null,
      prev_failures: null,
    };
    await this.deps.sessions.insert(trx, session);
    return { token, session };
  }

  /** The live session for a cookie token on this zone, or null (unknown, revoked, expired, other zone). */
  async resolve(token: string, zone: Zone): Promise<SessionsTable | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return null;
    const s = await this.deps.sessions.findByHash(sha256Hex(token));
    if (!s || s.revoked_at || s.zone !== zone) return null;
    const now = this.deps.clock.now().toISOString();
    if (s.idle_expires_at <= now || s.absolute_expires_at <= now) return null;
    return s;
  }

  /** Extends the idle timeout after activity. */
  async touch(s: SessionsTable, settings: TenantSettings): Promise<void> {
    const now = this.deps.clock.now();
    if (now.getTime() - Date.parse(s.last_seen_at) < TOUCH_INTERVAL_MS) return;
    const idle = new Date(now.getTime() + settings.session.idleMinutes * 60_000).toISOString();
    await this.deps.sessions.touch(
      s.tenant_id,
      s.id,
      now.toISOString(),
      idle < s.absolute_expires_at ? idle : s.absolute_expires_at,
    );
  }

  /** Whether the session re-verified the user recently enough for a sensitive action (step-up). */
  recentlyVerified(s: SessionsTable, settings: TenantSettings): boolean {
    if (!s.mfa_at) return false;
    return this.deps.clock.now().getTime() - Date.parse(s.mfa_at) <= settings.session.stepUpMinutes * 60_000;
  }
}
