/** Access reviews (AC-04): admins start, decide and sign off; admins and auditors read and export. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { requireAuth, SESSION_SECURITY } from './auth.hooks.js';

const Diff = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.object({ loginId: z.string(), from: z.string(), to: z.string() })),
});
const Summary = z.object({
  id: z.string(),
  state: z.enum(['open', 'signed_off']),
  startedBy: z.string(),
  startedAt: z.string(),
  dueAt: z.string(),
  signedOffBy: z.string().nullable(),
  signedOffAt: z.string().nullable(),
  findings: z.string().nullable(),
  diff: Diff,
});
const Review = Summary.extend({
  items: z.array(
    z.object({
      userId: z.string(),
      loginId: z.string(),
      displayName: z.string(),
      role: z.string(),
      state: z.string(),
      lastLoginAt: z.string().nullable(),
      decision: z.enum(['pending', 'confirmed', 'revoked']),
      decidedBy: z.string().nullable(),
      decidedAt: z.string().nullable(),
      note: z.string().nullable(),
    }),
  ),
});
const Id = z.object({ id: z.uuid() });

export async function registerAccessReviewRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { accessReviews } = services;
  const read = requireAuth(services, { roles: ['tenant_admin', 'auditor'] });
  const change = requireAuth(services, { roles: ['tenant_admin'], stepUp: true });

  r.get(
    '/api/v1/admin/access-reviews',
    {
      schema: { tags: ['admin'], response: { 200: z.object({ reviews: z.array(Summary) }) }, security: SESSION_SECURITY },
      preHandler: read,
    },
    async (req) => ({
      reviews: await accessReviews.list(req.principal!.actor.tenantId),
    }),
  );

  r.post(
    '/api/v1/admin/access-reviews',
    { schema: { tags: ['admin'], response: { 201: Review }, security: SESSION_SECURITY }, preHandler: change },
    async (req, reply) => reply.code(201).send(await accessReviews.start(req.principal!.actor)),
  );

  r.get(
    '/api/v1/admin/access-reviews/:id',
    { schema: { tags: ['admin'], params: Id, response: { 200: Review }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => accessReviews.get(req.principal!.actor.tenantId, req.params.id),
  );

  r.post(
    '/api/v1/admin/access-reviews/:id/items/:userId',
    {
      schema: {
        tags: ['admin'],
        params: Id.extend({ userId: z.uuid() }),
        body: z.object({ decision: z.enum(['confirmed', 'revoked']), note: z.string().max(1000).optional() }),
        security: SESSION_SECURITY,
      },
      preHandler: change,
    },
    async (req, reply) => {
      await accessReviews.decide(req.principal!.actor, req.params.id, req.params.userId, req.body.decision, req.body.note);
      return reply.code(204).send();
    },
  );

  r.post(
    '/api/v1/admin/access-reviews/:id/sign-off',
    {
      schema: {
        tags: ['admin'],
        params: Id,
        body: z.object({ findings: z.string().max(10_000) }),
        response: { 200: Review },
        security: SESSION_SECURITY,
      },
      preHandler: change,
    },
    async (req) => accessReviews.signOff(req.principal!.actor, req.params.id, req.body.findings),
  );

  r.get(
    '/api/v1/admin/access-reviews/:id/export',
    {
      schema: {
        tags: ['admin'],
        params: Id,
        querystring: z.object({ format: z.enum(['csv', 'xlsx']).default('csv') }),
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles: ['tenant_admin', 'auditor'], stepUp: true }),
    },
    async (req, reply) => {
      const body = await accessReviews.export(req.principal!.actor, req.params.id, req.query.format);
      const type =
        req.query.format === 'csv'
          ? 'text/csv; charset=utf-8'
          : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
      return reply
        .type(type)
        .header('content-disposition', `attachment; filename="access-review-${req.params.id}.${req.query.format}"`)
        .send(body);
    },
  );
}
