/**
 * The tenant's own audit log for its admins and auditors (LOG-04): search (also for API tokens with
 * `audit:read`, e.g. a SIEM collector reading forward with `after`) and exports (CSV of a filtered range,
 * JSONL of the whole chain for offline verification; both need a recent step-up and are audited).
 */
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { requireAuth, SESSION_SECURITY } from '../identity/auth.hooks.js';
import { normalizeLoginId } from '../identity/identity.schemas.js';
import type { AuditFilter } from './audit-query.service.js';

const tags = ['audit'];
const Outcome = z.enum(['success', 'failure', 'denied', 'error']);
const instant = z.iso.datetime({ offset: true }).transform((v) => new Date(v).toISOString());
const Filter = z.object({
  from: instant.optional(),
  to: instant.optional(),
  action: z.string().trim().min(1).max(100).optional(),
  outcome: Outcome.optional(),
  actor: z.string().trim().min(1).max(200).optional(),
  target: z.string().trim().min(1).max(200).optional(),
});
const AuditEvent = z.object({
  seq: z.number().int(),
  occurredAt: z.string(),
  actor: z.object({
    type: z.string(),
    id: z.string().nullable(),
    loginId: z.string().nullable(),
    displayName: z.string().nullable(),
  }),
  ip: z.string().nullable(),
  zone: z.string().nullable(),
  userAgent: z.string().nullable(),
  requestId: z.string().nullable(),
  action: z.string(),
  target: z.object({ type: z.string().nullable(), id: z.string().nullable() }),
  outcome: Outcome,
  reason: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});

const filterOf = (q: z.infer<typeof Filter>): AuditFilter => ({
  from: q.from,
  to: q.to,
  action: q.action,
  outcome: q.outcome,
  actor: q.actor,
  actorLogin: q.actor === undefined ? undefined : normalizeLoginId(q.actor),
  target: q.target,
});

export async function registerAuditRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const roles: Array<'tenant_admin' | 'auditor'> = ['tenant_admin', 'auditor'];

  r.get(
    '/api/v1/audit/events',
    {
      schema: {
        tags,
        // `before` pages back from the newest (people); `after` reads forward from a seq a collector
        // (a SIEM polling with an audit:read token) has stored, oldest first.
        querystring: Filter.extend({
          before: z.coerce.number().int().min(1).optional(),
          after: z.coerce.number().int().min(0).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }).refine((q) => q.before === undefined || q.after === undefined, 'before and after cannot be combined'),
        response: {
          200: z.object({
            items: z.array(AuditEvent),
            nextBefore: z.number().int().nullable(),
            nextAfter: z.number().int().nullable(),
          }),
        },
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles, scope: 'audit:read' }),
    },
    async (req) =>
      req.query.after === undefined
        ? {
            ...(await services.auditQuery.search(
              req.principal!.tenant.id,
              filterOf(req.query),
              req.query.before,
              req.query.limit,
            )),
            nextAfter: null,
          }
        : {
            ...(await services.auditQuery.forward(
              req.principal!.tenant.id,
              filterOf(req.query),
              req.query.after,
              req.query.limit,
            )),
            nextBefore: null,
          },
  );

  const Review = z.object({
    id: z.string(),
    periodFrom: z.string(),
    periodTo: z.string(),
    dueAt: z.string(),
    createdAt: z.string(),
    state: z.enum(['open', 'signed_off']),
    overdue: z.boolean(),
    summary: z.object({
      events: z.number().int(),
      byOutcome: z.record(z.string(), z.number().int()),
      notable: z.array(z.object({ kind: z.string(), count: z.number().int(), who: z.string().nullable().optional() })),
    }),
    signedOffBy: z.string().nullable(),
    signedOffAt: z.string().nullable(),
    findings: z.string().nullable(),
  });
  const reviewer = requireAuth(services, { roles });

  r.get(
    '/api/v1/audit/reviews',
    {
      schema: { tags, response: { 200: z.object({ items: z.array(Review) }) }, security: SESSION_SECURITY },
      preHandler: reviewer,
    },
    async (req) => ({ items: await services.auditReviews.list(req.principal!.tenant.id) }),
  );

  r.post(
    '/api/v1/audit/reviews',
    { schema: { tags, response: { 201: Review }, security: SESSION_SECURITY }, preHandler: reviewer },
    async (req, reply) => reply.code(201).send(await services.auditReviews.openNow(req.principal!.actor)),
  );

  r.post(
    '/api/v1/audit/reviews/:id/sign-off',
    {
      schema: {
        tags,
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z.object({ findings: z.string().trim().min(1).max(4000) }),
        response: { 200: Review },
        security: SESSION_SECURITY,
      },
      preHandler: reviewer,
    },
    async (req) => services.auditReviews.signOff(req.principal!.actor, req.params.id, req.body.findings),
  );

  r.get(
    '/api/v1/audit/signing-key',
    {
      schema: { tags, response: { 200: z.object({ keyId: z.string() }) }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { roles, scope: 'audit:read' }),
    },
    async () => ({ keyId: services.auditQuery.signingKeyId() }),
  );

  // Answers 204 when an export would be allowed now (role and a fresh step-up): the page asks first,
  // then lets the browser stream the whole chain to disk instead of holding it in memory.
  r.get(
    '/api/v1/audit/export/ready',
    { schema: { tags, security: SESSION_SECURITY }, preHandler: requireAuth(services, { roles, stepUp: true }) },
    async (_req, reply) => reply.code(204).send(),
  );

  r.get(
    '/api/v1/audit/export',
    {
      schema: {
        tags,
        // JSONL is the whole chain (a verifier needs every entry): filters are for CSV only.
        querystring: Filter.extend({ format: z.enum(['csv', 'jsonl']) }).refine(
          (q) => q.format === 'csv' || Object.entries(q).every(([k, v]) => k === 'format' || v === undefined),
          'filters apply to format=csv only',
        ),
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles, stepUp: true }),
    },
    async (req, reply) => {
      const p = req.principal!;
      const stamp = services.clock.now().toISOString().slice(0, 10);
      const lines =
        req.query.format === 'csv'
          ? await services.auditQuery.exportCsv(p.actor, filterOf(req.query))
          : await services.auditQuery.exportJsonl(p.actor);
      return reply
        .type(req.query.format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${p.tenant.slug}-${stamp}.${req.query.format}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  );
}
