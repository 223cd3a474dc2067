/** Sign-in, MFA, password, setup-link and session routes (thin: schema, guard, one service call). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { clearSessionCookie, originOf, requireAuth, setSessionCookie, SESSION_SECURITY } from './auth.hooks.js';
import {
  ChangePasswordBody,
  EnrollConfirmReply,
  EnrollReply,
  LoginBody,
  LoginReply,
  MeReply,
  NextReply,
  PasswordCheckBody,
  PasswordCheckReply,
  RecoveryBody,
  SessionIdParams,
  SessionsReply,
  SetupCompleteBody,
  SetupCompleteReply,
  SetupInfoReply,
  SetupTokenBody,
  StepUpBody,
  TotpBody,
  TermsReply,
  AcceptTermsBody,
} from './identity.schemas.js';

export async function registerAuthRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { auth } = services;
  // Credential-checking routes get a tighter per-address limit than the API in general.
  const attempts = { rateLimit: { max: services.config.limits.authAttemptsPerMinute, timeWindow: 60_000 } };
  const partial = requireAuth(services, { stages: ['mfa', 'mfa_enroll', 'password_change', 'terms', 'full'] });
  const full = requireAuth(services);
  const meRead = requireAuth(services, { scope: 'me:read' });
  // Enrolling TOTP on a signed-in session needs a recent verification (AC-13), as for passkeys.
  const enrolling = requireAuth(services, { stages: ['mfa_enroll', 'full'], stepUpWhenFull: true });

  // The login banner (AC-12) is shown before sign-in, so it is public; unknown tenants get an empty one.
  r.get(
    '/api/v1/auth/banner',
    {
      schema: {
        tags: ['auth'],
        querystring: z.object({ tenant: z.string().max(63) }),
        response: { 200: z.object({ banner: z.string() }) },
      },
    },
    async (req) => ({ banner: await auth.loginBanner(req.query.tenant) }),
  );

  r.post(
    '/api/v1/auth/login',
    { config: attempts, schema: { tags: ['auth'], body: LoginBody, response: { 200: LoginReply } } },
    async (req, reply) => {
      const result = await auth.login(originOf(req), req.body);
      setSessionCookie(reply, result.token);
      return { next: result.next, csrfToken: result.csrfToken };
    },
  );

  r.post(
    '/api/v1/auth/mfa/totp',
    {
      config: attempts,
      schema: { tags: ['auth'], body: TotpBody, response: { 200: NextReply }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { stages: ['mfa'] }),
    },
    async (req) => ({ next: await auth.verifyTotpCode(req.principal!, req.body.code, 'login') }),
  );

  r.post(
    '/api/v1/auth/mfa/recovery',
    {
      config: attempts,
      schema: { tags: ['auth'], body: RecoveryBody, response: { 200: NextReply }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { stages: ['mfa'] }),
    },
    async (req) => ({ next: await auth.verifyRecoveryCode(req.principal!, req.body.code) }),
  );

  r.post(
    '/api/v1/auth/mfa/totp/enroll',
    {
      schema: { tags: ['auth'], response: { 200: EnrollReply }, security: SESSION_SECURITY },
      preHandler: enrolling,
    },
    async (req) => auth.startTotpEnrollment(req.principal!),
  );

  r.post(
    '/api/v1/auth/mfa/totp/confirm',
    {
      schema: { tags: ['auth'], body: TotpBody, response: { 200: EnrollConfirmReply }, security: SESSION_SECURITY },
      preHandler: enrolling,
    },
    async (req) => auth.confirmTotpEnrollment(req.principal!, req.body.code),
  );

  r.post(
    '/api/v1/auth/password',
    {
      config: attempts,
      schema: { tags: ['auth'], body: ChangePasswordBody, response: { 200: NextReply }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { stages: ['password_change', 'full'] }),
    },
    async (req) => ({ next: await auth.changePassword(req.principal!, req.body) }),
  );

  r.post(
    '/api/v1/auth/password/check',
    { schema: { tags: ['auth'], body: PasswordCheckBody, response: { 200: PasswordCheckReply } } },
    async (req) => {
      const p = req.principal;
      const result = req.body.setupToken
        ? await auth.setupCandidate(req.body.setupToken, req.body.password)
        : p
          ? auth.checkCandidate(p.user, p.tenant, p.settings, req.body.password)
          : null;
      if (!result) throw new AppError('auth.unauthenticated');
      return {
        ok: result.reasons.length === 0,
        reasons: result.reasons,
        minLength: result.minLength,
        maxLength: result.maxLength,
      };
    },
  );

  r.post(
    '/api/v1/auth/setup/inspect',
    { schema: { tags: ['auth'], body: SetupTokenBody, response: { 200: SetupInfoReply } } },
    async (req) => auth.inspectSetup(req.body.token),
  );

  r.post(
    '/api/v1/auth/setup/complete',
    { config: attempts, schema: { tags: ['auth'], body: SetupCompleteBody, response: { 200: SetupCompleteReply } } },
    async (req, reply) => {
      const result = await auth.completeSetup(originOf(req), req.body);
      setSessionCookie(reply, result.token);
      return { next: result.next, csrfToken: result.csrfToken };
    },
  );

  const termsStage = requireAuth(services, { stages: ['terms', 'full'] });
  r.get(
    '/api/v1/auth/terms',
    { schema: { tags: ['auth'], response: { 200: TermsReply }, security: SESSION_SECURITY }, preHandler: termsStage },
    async (req) => auth.terms(req.principal!),
  );
  r.post(
    '/api/v1/auth/terms/accept',
    {
      schema: { tags: ['auth'], body: AcceptTermsBody, response: { 200: NextReply }, security: SESSION_SECURITY },
      preHandler: termsStage,
    },
    async (req) => ({ next: await auth.acceptTerms(req.principal!, req.body.version) }),
  );

  r.post(
    '/api/v1/auth/step-up',
    { config: attempts, schema: { tags: ['auth'], body: StepUpBody, security: SESSION_SECURITY }, preHandler: full },
    async (req, reply) => {
      await auth.stepUp(req.principal!, req.body);
      return reply.code(204).send();
    },
  );

  r.post(
    '/api/v1/auth/logout',
    { schema: { tags: ['auth'], security: SESSION_SECURITY }, preHandler: partial },
    async (req, reply) => {
      await auth.logout(req.principal!, false);
      clearSessionCookie(reply);
      return reply.code(204).send();
    },
  );

  r.post(
    '/api/v1/auth/logout-all',
    { schema: { tags: ['auth'], security: SESSION_SECURITY }, preHandler: full },
    async (req, reply) => {
      await auth.logout(req.principal!, true);
      clearSessionCookie(reply);
      return reply.code(204).send();
    },
  );

  // Any stage: lets a page reloaded in the middle of sign-in find its step and CSRF token again.
  r.get(
    '/api/v1/auth/session',
    {
      schema: {
        tags: ['auth'],
        response: {
          200: z.object({ stage: z.enum(['mfa', 'mfa_enroll', 'password_change', 'terms', 'full']), csrfToken: z.string() }),
        },
        security: SESSION_SECURITY,
      },
      preHandler: partial,
    },
    async (req) => ({ stage: req.principal!.session.stage, csrfToken: req.principal!.session.csrf_token }),
  );

  r.get(
    '/api/v1/me',
    {
      schema: { tags: ['auth'], response: { 200: MeReply }, security: [...SESSION_SECURITY, { bearerToken: [] }] },
      preHandler: meRead,
    },
    async (req) => auth.me(req.principal!),
  );

  r.get(
    '/api/v1/me/sessions',
    { schema: { tags: ['auth'], response: { 200: SessionsReply }, security: SESSION_SECURITY }, preHandler: full },
    async (req) => ({
      sessions: await auth.listSessions(req.principal!),
    }),
  );

  r.delete(
    '/api/v1/me/sessions/:id',
    { schema: { tags: ['auth'], params: SessionIdParams, security: SESSION_SECURITY }, preHandler: full },
    async (req, reply) => {
      await auth.revokeOwnSession(req.principal!, req.params.id);
      return reply.code(204).send();
    },
  );
}
