/** Groups of colleagues (tenant admins), used to share folders with a whole 部署 at once (AC-05). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { requireAuth, SESSION_SECURITY } from './auth.hooks.js';

const GroupDto = z.object({ id: z.string(), name: z.string(), memberIds: z.array(z.string()), createdAt: z.string() });
const GroupBody = z.object({ name: z.string().trim().min(1).max(100), memberIds: z.array(z.uuid()).max(5000) });
const IdParams = z.object({ id: z.uuid() });
const tags = ['admin'];

export async function registerGroupRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = requireAuth(services, { roles: ['tenant_admin'] });

  r.get(
    '/api/v1/admin/groups',
    {
      schema: { tags, response: { 200: z.object({ groups: z.array(GroupDto) }) }, security: SESSION_SECURITY },
      preHandler: admin,
    },
    async (req) => ({ groups: await services.groups.list(req.principal!.actor.tenantId) }),
  );
  r.post(
    '/api/v1/admin/groups',
    { schema: { tags, body: GroupBody, response: { 201: GroupDto }, security: SESSION_SECURITY }, preHandler: admin },
    async (req, reply) => reply.code(201).send(await services.groups.save(req.principal!.actor, req.body)),
  );
  r.put(
    '/api/v1/admin/groups/:id',
    {
      schema: { tags, params: IdParams, body: GroupBody, response: { 200: GroupDto }, security: SESSION_SECURITY },
      preHandler: admin,
    },
    async (req) => services.groups.save(req.principal!.actor, { ...req.body, id: req.params.id }),
  );
  r.delete(
    '/api/v1/admin/groups/:id',
    { schema: { tags, params: IdParams, security: SESSION_SECURITY }, preHandler: admin },
    async (req, reply) => {
      await services.groups.remove(req.principal!.actor, req.params.id);
      return reply.code(204).send();
    },
  );
}
