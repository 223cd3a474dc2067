/** The tenant's mail outbox for admins (TLS-04): what was sent, what failed, what waits for SMTP. */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { requireAuth, SESSION_SECURITY } from '../identity/auth.hooks.js';
import { isSecretTemplate } from './mail-templates.js';

const tags = ['admin'];
const SECRET_BODY = '(リンク・確認コードを含むため表示しません / not shown: it carries a link or a one-time code)';
const OutboxItem = z.object({
  id: z.string(),
  to: z.string(),
  template: z.string(),
  subject: z.string(),
  body: z.string(),
  state: z.enum(['queued', 'sent', 'failed', 'unsent']),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  sentAt: z.string().nullable(),
});

export async function registerMailRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = requireAuth(services, { roles: ['tenant_admin'] });

  r.get(
    '/api/v1/admin/mail/outbox',
    {
      schema: {
        tags,
        response: { 200: z.object({ configured: z.boolean(), items: z.array(OutboxItem) }) },
        security: SESSION_SECURITY,
      },
      preHandler: admin,
    },
    async (req) => ({
      configured: services.mail.configured,
      items: (await services.mail.list(req.principal!.tenant.id)).map((m) => ({
        id: m.id,
        to: m.to_address,
        template: m.template,
        subject: m.subject,
        // A link or one-time code for an outside party is never shown, in any state: with it, an
        // admin could open the share as its recipient (TLS-03).
        body: isSecretTemplate(m.template) ? SECRET_BODY : m.body,
        state: m.state,
        attempts: m.attempts,
        lastError: m.last_error,
        createdAt: m.created_at,
        sentAt: m.sent_at,
      })),
    }),
  );

  // A test mail to the admin's own address: proves the SMTP settings end to end.
  r.post('/api/v1/admin/mail/test', { schema: { tags, security: SESSION_SECURITY }, preHandler: admin }, async (req, reply) => {
    const p = req.principal!;
    if (!p.user.email) throw new AppError('request.invalid', 'your account has no e-mail address');
    await services.database.transaction(async (trx) => {
      await services.mail.queue(trx, p.tenant.id, [p.user.email], 'test', { tenant: p.tenant.displayName });
      await services.audit.append(trx, p.actor, {
        action: 'mail.test_queued',
        target: { type: 'mail', id: 'test' },
        details: {},
      });
    });
    services.jobs.notify();
    return reply.code(202).send();
  });
}
