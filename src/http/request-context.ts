/**
 * Request context (design §3.1): zone of the listener, request id, client IP. Fastify's
 * `trustProxy` is set to the configured trusted proxies only, so `request.ip` honours
 * `X-Forwarded-For` from them and ignores it from anyone else (AC-10).
 */
import type { FastifyRequest } from 'fastify';
import { SYSTEM_TENANT_ID, type Actor, type Zone } from '../core/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    zone: Zone;
  }
}

/** The anonymous actor of a request, before authentication; the auth layer replaces it. */
export function actorOf(request: FastifyRequest): Actor {
  const ua = request.headers['user-agent'];
  return {
    type: 'anonymous',
    id: null,
    tenantId: SYSTEM_TENANT_ID,
    ip: request.ip,
    zone: request.zone,
    userAgent: typeof ua === 'string' ? ua : null,
    requestId: request.id,
  };
}
