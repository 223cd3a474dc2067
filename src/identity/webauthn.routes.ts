/** Passkey registration, sign-in and step-up routes (AC-09). The JSON shapes are WebAuthn's own (WebAuthn Level 3 JSON). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { requireAuth, SESSION_SECURITY } from './auth.hooks.js';
import { NextReply } from './identity.schemas.js';

/** The browser's credential JSON; the library validates every field of it. */
const CredentialJson = z.looseObject({
  id: z.string().max(1024),
  rawId: z.string().max(1024),
  type: z.literal('public-key'),
  response: z.looseObject({}),
});

export async function registerWebAuthnRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { webauthn } = services;
  // Another factor from the account page needs a recent verification: a stolen session alone
  // must not be able to add its own authenticator and pass step-up with it (AC-13).
  const enrolling = requireAuth(services, { stages: ['mfa_enroll', 'full'], stepUpWhenFull: true });
  const verifying = requireAuth(services, { stages: ['mfa', 'full'] });

  r.post(
    '/api/v1/auth/webauthn/register/options',
    { schema: { tags: ['auth'], security: SESSION_SECURITY }, preHandler: enrolling },
    async (req) => webauthn.registrationOptions(req.principal!),
  );
  r.post(
    '/api/v1/auth/webauthn/register/verify',
    {
      schema: {
        tags: ['auth'],
        body: z.object({ credential: CredentialJson, name: z.string().trim().max(100).default('') }),
        response: { 200: z.object({ next: NextReply.shape.next, recoveryCodes: z.array(z.string()) }) },
        security: SESSION_SECURITY,
      },
      preHandler: enrolling,
    },
    async (req) => webauthn.register(req.principal!, req.body.credential as never, req.body.name),
  );
  r.post(
    '/api/v1/auth/webauthn/authenticate/options',
    { schema: { tags: ['auth'], security: SESSION_SECURITY }, preHandler: verifying },
    async (req) => webauthn.authenticationOptions(req.principal!),
  );
  r.post(
    '/api/v1/auth/webauthn/authenticate/verify',
    {
      config: { rateLimit: { max: services.config.limits.authAttemptsPerMinute, timeWindow: 60_000 } },
      schema: {
        tags: ['auth'],
        body: z.object({ credential: CredentialJson }),
        response: { 200: NextReply },
        security: SESSION_SECURITY,
      },
      preHandler: verifying,
    },
    async (req) => {
      const p = req.principal!;
      return {
        next: await webauthn.authenticate(p, req.body.credential as never, p.session.stage === 'full' ? 'step_up' : 'login'),
      };
    },
  );
  r.get(
    '/api/v1/me/passkeys',
    {
      schema: {
        tags: ['auth'],
        response: {
          200: z.object({
            passkeys: z.array(
              z.object({ id: z.string(), name: z.string(), createdAt: z.string(), lastUsedAt: z.string().nullable() }),
            ),
          }),
        },
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services),
    },
    async (req) => ({ passkeys: await webauthn.list(req.principal!) }),
  );
  r.delete(
    '/api/v1/me/passkeys/:id',
    {
      schema: { tags: ['auth'], params: z.object({ id: z.string().max(1024) }), security: SESSION_SECURITY },
      preHandler: requireAuth(services, { stepUp: true }),
    },
    async (req, reply) => {
      await webauthn.remove(req.principal!, req.params.id);
      return reply.code(204).send();
    },
  );
}
