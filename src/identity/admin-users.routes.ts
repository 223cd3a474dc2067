/** Tenant-admin user management and policy routes (AC-01–AC-05, AC-10, AC-13 step-up). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import { TenantSettings } from '../tenants/tenant-settings.js';
import { requireAuth, SESSION_SECURITY } from './auth.hooks.js';
import { CreateUserBody, UserActionReply, UserIdParams, UsersReply, type UserDto } from './identity.schemas.js';
import type { UserSummary } from './user-admin.service.js';
import { setupUrl } from './setup-link.js';
import { readDeviceCrl } from './device-policy.js';

function toDto(u: UserSummary): UserDto {
  return {
    id: u.id,
    loginId: u.loginId,
    displayName: u.displayName,
    email: u.email,
    role: u.role,
    state: u.state,
    locked: u.locked,
    mfaEnrolled: u.mfaEnrolled,
    lastLoginAt: u.lastLoginAt,
    createdAt: u.createdAt,
    createdBy: u.createdBy,
    approvedBy: u.approvedBy,
    linkRequestedBy: u.linkRequestedBy,
  };
}

/** Who takes over the folders a suspended or deleted user owns (HR-04). */
const Handover = z.object({ reassignTo: z.uuid().optional() });

const ACTIONS = {
  reject: 'reject',
  suspend: 'suspend',
  reactivate: 'reactivate',
  unlock: 'unlock',
  'reset-mfa': 'resetMfa',
  'require-password-change': 'requirePasswordChange',
} as const;

export async function registerAdminUserRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { userAdmin } = services;
  // Auditors (and operators under an approved grant, who act as auditors) read the user list too.
  const read = requireAuth(services, { roles: ['tenant_admin', 'auditor'], scope: 'users:read' });
  const change = requireAuth(services, { roles: ['tenant_admin'], stepUp: true });
  const link = (token: string) => setupUrl(services.publicBaseUrl('lgwan'), token);

  r.get(
    '/api/v1/admin/users',
    { schema: { tags: ['admin'], response: { 200: UsersReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => ({
      users: (await userAdmin.list(req.principal!.actor)).map(toDto),
    }),
  );

  r.get(
    '/api/v1/admin/users/inactive',
    { schema: { tags: ['admin'], response: { 200: UsersReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => ({
      users: (await userAdmin.inactive(req.principal!.actor.tenantId)).map(toDto),
    }),
  );

  r.post(
    '/api/v1/admin/users',
    {
      schema: { tags: ['admin'], body: CreateUserBody, response: { 201: UserActionReply }, security: SESSION_SECURITY },
      preHandler: change,
    },
    async (req, reply) => {
      const { user, setupToken } = await userAdmin.create(req.principal!.actor, req.body);
      return reply.code(201).send({ user: toDto(user), ...(setupToken ? { setupUrl: link(setupToken) } : {}) });
    },
  );

  r.post(
    '/api/v1/admin/users/:id/approve',
    {
      schema: { tags: ['admin'], params: UserIdParams, response: { 200: UserActionReply }, security: SESSION_SECURITY },
      preHandler: change,
    },
    async (req) => {
      const { user, setupToken } = await userAdmin.approve(req.principal!.actor, req.params.id);
      return { user: toDto(user), setupUrl: link(setupToken) };
    },
  );

  r.post(
    '/api/v1/admin/users/:id/setup-link',
    {
      schema: { tags: ['admin'], params: UserIdParams, response: { 200: UserActionReply }, security: SESSION_SECURITY },
      preHandler: change,
    },
    async (req) => {
      // Under the two-person rule a link for another admin is held for a second admin's approval: no URL yet.
      const { user, setupToken } = await userAdmin.reissueSetupLink(req.principal!.actor, req.params.id);
      return { user: toDto(user), ...(setupToken ? { setupUrl: link(setupToken) } : {}) };
    },
  );

  r.post(
    '/api/v1/admin/users/:id/:action',
    {
      schema: {
        tags: ['admin'],
        params: UserIdParams.extend({
          action: z.enum(Object.keys(ACTIONS) as [keyof typeof ACTIONS, ...Array<keyof typeof ACTIONS>]),
        }),
        querystring: Handover,
        response: { 200: UserActionReply },
        security: SESSION_SECURITY,
      },
      preHandler: change,
    },
    async (req) => {
      const { action, id } = req.params;
      const actor = req.principal!.actor;
      const user =
        action === 'suspend'
          ? await userAdmin.suspend(actor, id, req.query.reassignTo)
          : await userAdmin[ACTIONS[action]](actor, id);
      return { user: toDto(user) };
    },
  );

  r.post(
    '/api/v1/admin/users/:id/sessions/revoke',
    {
      schema: {
        tags: ['admin'],
        params: UserIdParams,
        response: { 200: z.object({ sessionsEnded: z.number() }) },
        security: SESSION_SECURITY,
      },
      preHandler: change,
    },
    async (req) => ({ sessionsEnded: await userAdmin.revokeSessions(req.principal!.actor, req.params.id) }),
  );

  r.delete(
    '/api/v1/admin/users/:id',
    {
      schema: {
        tags: ['admin'],
        params: UserIdParams,
        querystring: Handover,
        response: { 200: UserActionReply },
        security: SESSION_SECURITY,
      },
      preHandler: change,
    },
    async (req) => ({ user: toDto(await userAdmin.remove(req.principal!.actor, req.params.id, req.query.reassignTo)) }),
  );

  r.get(
    '/api/v1/admin/auth-policy/export',
    {
      schema: {
        tags: ['admin'],
        querystring: z.object({ format: z.enum(['json', 'pdf']).default('json') }),
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles: ['tenant_admin', 'auditor'], stepUp: true }),
    },
    async (req, reply) => {
      const p = req.principal!;
      const { document, pdf } = await services.authPolicy.export(p.actor, p.tenant, req.query.format);
      const name = `auth-policy-${p.tenant.slug}-v${document.version}`;
      if (pdf) return reply.type('application/pdf').header('content-disposition', `attachment; filename="${name}.pdf"`).send(pdf);
      return reply.header('content-disposition', `attachment; filename="${name}.json"`).send(document);
    },
  );

  r.post(
    '/api/v1/admin/policy/device-crl',
    {
      schema: {
        tags: ['admin'],
        body: z.object({ crl: z.string().min(1).max(900_000), caPem: z.string().min(1).max(64_000).optional() }),
        response: {
          200: z.object({
            issuer: z.string(),
            thisUpdate: z.string(),
            nextUpdate: z.string().nullable(),
            serials: z.array(z.string()),
          }),
        },
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles: ['tenant_admin'] }),
    },
    async (req) => readDeviceCrl(await services.tenantPolicy.get(req.principal!.actor.tenantId), req.body.crl, req.body.caPem),
  );

  r.get(
    '/api/v1/admin/policy',
    {
      schema: { tags: ['admin'], response: { 200: TenantSettings }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { roles: ['tenant_admin'] }),
    },
    async (req, reply) => {
      const settings = await services.tenantPolicy.get(req.principal!.actor.tenantId);
      return reply.header('etag', TenantPolicyService.tagOf(settings)).send(settings);
    },
  );

  r.put(
    '/api/v1/admin/policy',
    {
      schema: {
        tags: ['admin'],
        body: z.record(z.string(), z.unknown()),
        response: { 200: TenantSettings },
        security: SESSION_SECURITY,
      },
      preHandler: change,
    },
    async (req, reply) => {
      const ifMatch = typeof req.headers['if-match'] === 'string' ? req.headers['if-match'] : null;
      const saved = await services.tenantPolicy.update(req.principal!.actor, req.body, ifMatch);
      return reply.header('etag', TenantPolicyService.tagOf(saved)).send(saved);
    },
  );
}
