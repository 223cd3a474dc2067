/** Lockbox routes (AC-07): operators request; tenant admins see, approve, deny and revoke. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { requireAuth, SESSION_SECURITY } from './auth.hooks.js';
import { MAX_GRANT_MINUTES } from './support-grant.service.js';

const Grant = z.object({
  id: z.string(),
  tenant: z.object({ id: z.string(), slug: z.string() }),
  operatorId: z.string(),
  reason: z.string(),
  durationMinutes: z.number(),
  state: z.enum(['requested', 'approved', 'denied', 'revoked', 'expired']),
  requestedAt: z.string(),
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});
const Grants = z.object({ grants: z.array(Grant) });

export async function registerSupportGrantRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { supportGrants } = services;
  const operator = requireAuth(services, { roles: ['operator'] });

  r.post(
    '/api/v1/operator/support-grants',
    {
      schema: {
        tags: ['operator'],
        body: z.object({
          tenant: z.string().min(1).max(63),
          reason: z.string().trim().min(10).max(2000),
          durationMinutes: z.number().int().min(15).max(MAX_GRANT_MINUTES).default(60),
        }),
        response: { 201: Grant },
        security: SESSION_SECURITY,
      },
      preHandler: operator,
    },
    async (req, reply) => reply.code(201).send(await supportGrants.request(req.principal!.actor, req.body)),
  );

  r.get(
    '/api/v1/operator/support-grants',
    { schema: { tags: ['operator'], response: { 200: Grants }, security: SESSION_SECURITY }, preHandler: operator },
    async (req) => ({
      grants: await supportGrants.listForOperator(req.principal!.user.id),
    }),
  );

  r.get(
    '/api/v1/admin/support-grants',
    {
      schema: { tags: ['admin'], response: { 200: Grants }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { roles: ['tenant_admin', 'auditor'] }),
    },
    async (req) => ({ grants: await supportGrants.listForTenant(req.principal!.actor.tenantId) }),
  );

  r.post(
    '/api/v1/admin/support-grants/:id/:decision',
    {
      schema: {
        tags: ['admin'],
        params: z.object({ id: z.uuid(), decision: z.enum(['approve', 'deny', 'revoke']) }),
        response: { 200: Grant },
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles: ['tenant_admin'], stepUp: true }),
    },
    async (req) => supportGrants.decide(req.principal!.actor, req.params.id, req.params.decision),
  );
}
