/** Personal API tokens (AC-15): the owner creates (step-up), lists and revokes; tenant admins list and revoke all. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { TOKEN_SCOPES } from './api-token.service.js';
import { requireAuth, SESSION_SECURITY } from './auth.hooks.js';

const TokenDto = z.object({
  id: z.string(),
  userId: z.string(),
  name: z.string(),
  scopes: z.array(z.enum(TOKEN_SCOPES)),
  expiresAt: z.string(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  lastUsedIp: z.string().nullable(),
  revoked: z.boolean(),
});
const TokensReply = z.object({ tokens: z.array(TokenDto) });
const CreateTokenBody = z.object({
  name: z.string().trim().min(1).max(100),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1),
  expiresInDays: z.number().int().min(1).max(365).optional(),
});
const IdParams = z.object({ id: z.uuid() });

export async function registerApiTokenRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { apiTokens } = services;

  r.get(
    '/api/v1/me/tokens',
    {
      schema: { tags: ['tokens'], response: { 200: TokensReply }, security: SESSION_SECURITY },
      preHandler: requireAuth(services),
    },
    async (req) => ({
      tokens: await apiTokens.list(req.principal!.actor.tenantId, req.principal!.user.id),
    }),
  );

  r.post(
    '/api/v1/me/tokens',
    {
      schema: {
        tags: ['tokens'],
        body: CreateTokenBody,
        response: { 201: z.object({ token: z.string(), info: TokenDto }) },
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { stepUp: true }),
    },
    async (req, reply) => {
      const p = req.principal!;
      const { token, view } = await apiTokens.create(p.actor, p.settings, req.zone, req.body);
      return reply.code(201).send({ token, info: view });
    },
  );

  r.delete(
    '/api/v1/me/tokens/:id',
    { schema: { tags: ['tokens'], params: IdParams, security: SESSION_SECURITY }, preHandler: requireAuth(services) },
    async (req, reply) => {
      await apiTokens.revoke(req.principal!.actor, req.params.id, req.principal!.user.id);
      return reply.code(204).send();
    },
  );

  r.get(
    '/api/v1/admin/tokens',
    {
      schema: { tags: ['admin'], response: { 200: TokensReply }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { roles: ['tenant_admin'] }),
    },
    async (req) => ({ tokens: await apiTokens.list(req.principal!.actor.tenantId) }),
  );

  r.delete(
    '/api/v1/admin/tokens/:id',
    {
      schema: { tags: ['admin'], params: IdParams, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { roles: ['tenant_admin'], stepUp: true }),
    },
    async (req, reply) => {
      await apiTokens.revoke(req.principal!.actor, req.params.id);
      return reply.code(204).send();
    },
  );
}
