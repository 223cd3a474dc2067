/**
 * The authentication layer of the request path (design §3.2–3.3): resolves the `__Host-kura`
 * session on API requests, checks CSRF on every state-changing request, enforces the tenant's IP
 * rules, and offers `requireAuth` guards for routes.
 */
import cookie from '@fastify/cookie';
import type { TLSSocket } from 'node:tls';
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { constantTimeEqual } from '../crypto/primitives.js';
import type { SessionStage } from '../db/schema.js';
import type { Role } from '../tenants/tenant-settings.js';
import type { Principal } from './auth.service.js';
import { requireFeature } from '../tenants/feature-guard.js';
import { SESSION_COOKIE } from './session.service.js';
import type { TenantId } from '../core/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** OpenAPI security requirement of routes used with a session: the cookie plus the CSRF header. */
export const SESSION_SECURITY = [{ sessionCookie: [], csrfToken: [] }];
export const CSRF_HEADER = 'x-csrf-token';

export async function installAuth(app: FastifyInstance, services: Services): Promise<void> {
  await app.register(cookie);
  app.decorateRequest('principal', null);
  app.addHook('onRequest', async (request) => {
    // The matched route decides, not the raw URL: the router decodes %-escapes (`/%61pi/…` is `/api/…`).
    const path = request.routeOptions.url ?? request.url;
    if (!path.startsWith('/api/')) return;
    if (path.startsWith('/api/v1/ext/')) {
      // Outside parties (file exchange): the link token and its code session are the credentials; a
      // staff session in the same browser is ignored. A page of another site may not post here.
      if (!SAFE_METHODS.has(request.method) && request.headers['sec-fetch-site'] === 'cross-site')
        throw new AppError('auth.csrf_invalid');
      return;
    }
    const authz = request.headers.authorization;
    const bearer = typeof authz === 'string' && /^Bearer /i.test(authz) ? authz.slice(7).trim() : null;
    if (bearer) {
      // A bearer token carries no ambient authority, so it needs no CSRF token; a bad one is a 401, never a fallback.
      request.principal = await loadTokenPrincipal(services, request, bearer);
      if (!request.principal) throw new AppError('auth.unauthenticated');
      requireFeature(request.principal.settings, request.zone, 'api_tokens');
      await services.auth.enforceAccess(request.principal, peerCertificate(request));
      // A token stands in for a fully signed-in session, so it is refused while its owner's password
      // must be changed (expired, or demanded by an admin), as such a session would be (AC-17, AC-15).
      if (services.auth.passwordChangeDue(request.principal.user, request.principal.settings))
        throw new AppError('auth.password_change_required');
      return;
    }
    const token = request.cookies[SESSION_COOKIE];
    if (token) request.principal = await loadPrincipal(services, request, token);
    if (!SAFE_METHODS.has(request.method)) {
      if (request.principal) {
        const sent = request.headers[CSRF_HEADER];
        if (
          typeof sent !== 'string' ||
          !constantTimeEqual(Buffer.from(sent), Buffer.from(request.principal.session.csrf_token))
        ) {
          throw new AppError('auth.csrf_invalid');
        }
      } else if (request.headers['sec-fetch-site'] === 'cross-site') {
        // No session yet (login, setup): a browser tells us when a page of another site sent this.
        throw new AppError('auth.csrf_invalid');
      }
    }
    if (request.principal) {
      await services.auth.enforceAccess(request.principal, peerCertificate(request));
      await services.sessionService.touch(request.principal.session, request.principal.settings);
      const target = request.headers[SUPPORT_TENANT_HEADER];
      if (typeof target === 'string' && request.principal.user.role === 'operator') {
        request.principal = await enterTenant(services, request, request.principal, target);
      }
    }
  });
}

/** The header an operator sends to act inside a tenant under an approved support grant. */
export const SUPPORT_TENANT_HEADER = 'x-kura-support-tenant';

/**
 * An operator inside a tenant (AC-07): only with an approved, unexpired grant (otherwise 404, as if
 * the tenant had nothing), read-only (the auditor role), acting as `operator` in the tenant's own
 * audit log, every request recorded there.
 */
async function enterTenant(services: Services, request: FastifyRequest, p: Principal, slug: string): Promise<Principal> {
  const tenant = await services.tenantRepository.findBySlug(slug);
  const grant = tenant?.status === 'active' ? await services.supportGrants.activeGrant(tenant.id, p.user.id) : undefined;
  if (!tenant || !grant) throw new AppError('route.not_found');
  const actor = { ...p.actor, type: 'operator' as const, tenantId: tenant.id as TenantId };
  const inside: Principal = {
    ...p,
    user: { ...p.user, role: 'auditor' },
    settings: await services.tenantPolicy.get(tenant.id),
    tenant: { id: tenant.id, slug: tenant.slug, displayName: tenant.displayName },
    actor,
    supportGrantId: grant.id,
  };
  // The tenant's own address and device rules (for the auditor role) hold for the operator too:
  // a grant opens the tenant's data, not its network boundary (AC-10, AC-11). A refusal is audited
  // in the tenant's log.
  await services.auth.enforceAccess(inside, peerCertificate(request));
  await services.supportGrants.recordUse(actor, grant.id, request.method, request.url.split('?')[0]!);
  return inside;
}

async function loadTokenPrincipal(services: Services, request: FastifyRequest, bearer: string): Promise<Principal | null> {
  const ua = request.headers['user-agent'];
  const found = await services.apiTokens.resolve(bearer, request.ip, (t) => ({
    type: 'user',
    id: t.user_id,
    tenantId: t.tenant_id as TenantId,
    ip: request.ip,
    zone: request.zone,
    userAgent: typeof ua === 'string' ? ua : null,
    requestId: request.id,
  }));
  if (!found) return null;
  const t = found.row;
  const now = services.clock.now().toISOString();
  const synthetic = {
    id: `token:${t.id}`,
    tenant_id: t.tenant_id,
    user_id: t.user_id,
    stage: 'full' as const,
    zone: request.zone,
    ip: request.ip,
    user_agent: null,
    csrf_token: '',
    created_at: t.created_at,
    last_seen_at: now,
    idle_expires_at: t.expires_at,
    absolute_expires_at: t.expires_at,
    mfa_at: null,
    revoked_at: null,
    revoked_reason: null,
    webauthn_challenge: null,
    prev_login_at: null,
    prev_login_ip: null,
    prev_login_zone: null,
    prev_failures: null,
  };
  return principalFor(services, request, synthetic, 'token', found.scopes);
}

async function loadPrincipal(services: Services, request: FastifyRequest, token: string): Promise<Principal | null> {
  const session = await services.sessionService.resolve(token, request.zone);
  if (!session) return null;
  return principalFor(services, request, session, 'session', []);
}

async function principalFor(
  services: Services,
  request: FastifyRequest,
  session: Principal['session'],
  via: Principal['via'],
  scopes: string[],
): Promise<Principal | null> {
  const [user, tenant] = await Promise.all([
    services.userRepository.findById(session.tenant_id, session.user_id),
    services.tenantRepository.findById(session.tenant_id),
  ]);
  if (!user || user.state !== 'active' || !tenant || tenant.status !== 'active') return null;
  const ua = request.headers['user-agent'];
  return {
    user,
    session,
    via,
    scopes,
    settings: await services.tenantPolicy.get(tenant.id),
    tenant: { id: tenant.id, slug: tenant.slug, displayName: tenant.displayName },
    actor: {
      type: 'user',
      id: user.id,
      tenantId: tenant.id as TenantId,
      ip: request.ip,
      zone: request.zone,
      userAgent: typeof ua === 'string' ? ua : null,
      requestId: request.id,
    },
  };
}

export interface RequireAuthOptions {
  /** Session stages allowed (default: fully signed in only). */
  stages?: SessionStage[];
  roles?: Role[];
  /** Needs a recent re-verification (AC-13 step-up); API tokens never qualify. */
  stepUp?: boolean;
  /**
   * Needs a recent re-verification when the session is fully signed in (adding a second factor
   * from the account page), not during sign-in, where the password was just checked.
   */
  stepUpWhenFull?: boolean;
  /** The API-token scope that may call this route; routes without one refuse tokens. */
  scope?: string;
}

/** A route guard; the principal is then `request.principal!`. */
export function requireAuth(services: Services, opts: RequireAuthOptions = {}): preHandlerAsyncHookHandler {
  const stages = opts.stages ?? ['full'];
  return async function guard(request: FastifyRequest, _reply: FastifyReply) {
    const p = request.principal;
    if (!p) throw new AppError('auth.unauthenticated');
    if (p.via === 'token' && (!opts.scope || !p.scopes.includes(opts.scope))) throw new AppError('auth.token_not_allowed');
    if (!stages.includes(p.session.stage)) {
      throw new AppError(
        p.session.stage === 'mfa'
          ? 'auth.mfa_required'
          : p.session.stage === 'mfa_enroll'
            ? 'auth.mfa_enrollment_required'
            : p.session.stage === 'password_change'
              ? 'auth.password_change_required'
              : p.session.stage === 'terms'
                ? 'auth.terms_required'
                : 'auth.unauthenticated',
      );
    }
    if (opts.roles && !opts.roles.includes(p.user.role)) {
      // Tenant routes answer 404 to operators without a grant: nothing of a tenant is visible to them (AC-07).
      throw new AppError(p.user.role === 'operator' ? 'route.not_found' : 'auth.forbidden');
    }
    const stepUp = opts.stepUp || (opts.stepUpWhenFull && p.session.stage === 'full');
    if (stepUp && !services.sessionService.recentlyVerified(p.session, p.settings)) throw new AppError('auth.step_up_required');
  };
}

export function setSessionCookie(reply: FastifyReply, token: string): void {
  reply.setCookie(SESSION_COOKIE, token, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
}

export function clearSessionCookie(reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', secure: true, httpOnly: true, sameSite: 'strict' });
}

export function originOf(request: FastifyRequest) {
  const ua = request.headers['user-agent'];
  return {
    zone: request.zone,
    ip: request.ip,
    userAgent: typeof ua === 'string' ? ua : null,
    requestId: request.id,
    clientCert: peerCertificate(request),
  };
}

/** The client certificate of the TLS connection (DER), if the listener requested one and the client sent it. */
export function peerCertificate(request: FastifyRequest): Buffer | null {
  const socket = request.raw.socket as TLSSocket;
  if (typeof socket.getPeerCertificate !== 'function') return null;
  const cert = socket.getPeerCertificate();
  return cert && cert.raw && cert.raw.length ? cert.raw : null;
}
