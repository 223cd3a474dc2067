/**
 * Exchange API for staff (both zones) and for outside parties (internet zone, link token + one-time
 * code session). Thin: schema, guard, one service call. Contract: docs/exchange.md.
 */
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { interrupted, rangeOf, sendDownload } from '../files/files.routes.js';
import { registerTusEndpoint } from '../files/tus.routes.js';
import { requireAuth, SESSION_SECURITY } from '../identity/auth.hooks.js';
import { TYPE_CATEGORIES } from '../malware/true-type.js';
import type { LinkCredentials } from './request.service.js';
import { SESSION_MS, sessionCookieName } from './verification.js';

const tags = ['exchange'];
const IdParams = z.object({ id: z.uuid() });
const Lang = z.enum(['ja', 'en']).default('ja');
const CreateRequestBody = z.object({
  title: z.string().trim().min(1).max(200),
  message: z.string().trim().max(4000).default(''),
  recipientEmail: z.string().trim().min(3).max(254),
  expiresInDays: z.number().int().min(1).max(365),
  allowedTypes: z.array(z.enum(TYPE_CATEGORIES)).max(TYPE_CATEGORIES.length).default([]),
  maxBytes: z.number().int().min(1),
  requireCode: z.boolean().default(true),
  lang: Lang,
});
const ShareBody = z.object({
  fileIds: z.array(z.uuid()).min(1).max(50),
  recipients: z.array(z.string().trim().min(3).max(254)).min(1).max(20),
  purpose: z.string().trim().min(1).max(500),
  message: z.string().trim().max(4000).default(''),
  expiresInDays: z.number().int().min(1).max(365),
  maxDownloads: z.number().int().min(1).max(100).optional(),
  verification: z.enum(['code', 'password']).default('code'),
  password: z.string().max(256).optional(),
  lang: Lang,
});
const DecisionBody = z
  .object({ decision: z.enum(['approve', 'reject']), comment: z.string().trim().max(2000).default('') })
  .refine((b) => b.decision === 'approve' || b.comment.length > 0, { message: 'a rejection needs a comment', path: ['comment'] });
const ApproversBody = z.object({
  approvers: z.array(z.object({ userId: z.uuid(), deputy: z.boolean().default(false) })).max(50),
});
/** Link tokens are 43 base64url characters (256 bits); anything else cannot be one. */
const LINK_TOKEN = /^[A-Za-z0-9_-]{43}$/;
/**
 * The path only bounds the token's length: a malformed token is then refused like every other
 * unusable link (404 exchange.not_found, TLS-03), not with a 400 that tells it apart.
 */
const TokenParams = z.object({ token: z.string().max(256) });
const STAFF = ['tenant_admin', 'approver', 'staff'] as const;

export async function registerExchangeRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { requests, shares } = services;
  const read = requireAuth(services, { scope: 'files:read', roles: [...STAFF, 'auditor'] });
  const write = requireAuth(services, { scope: 'files:write', roles: [...STAFF] });
  const decide = requireAuth(services, { scope: 'files:write', roles: ['approver', 'tenant_admin'] });
  const admin = requireAuth(services, { roles: ['tenant_admin'] });
  const actor = (req: FastifyRequest) => req.principal!.actor;
  const sec = { tags, security: SESSION_SECURITY };

  // ---- upload requests (受け取り) ----
  r.post('/api/v1/exchange/requests', { schema: { ...sec, body: CreateRequestBody }, preHandler: write }, async (req, reply) =>
    reply.code(201).send(await requests.create(actor(req), req.body)),
  );
  r.get('/api/v1/exchange/requests', { schema: sec, preHandler: read }, async (req) => ({
    items: await requests.list(actor(req)),
  }));
  r.get('/api/v1/exchange/requests/:id', { schema: { ...sec, params: IdParams }, preHandler: read }, async (req) =>
    requests.view(actor(req), req.params.id),
  );
  r.post(
    '/api/v1/exchange/requests/:id/revoke',
    { schema: { ...sec, params: IdParams }, preHandler: write },
    async (req, reply) => {
      await requests.revoke(actor(req), req.params.id);
      return reply.code(204).send();
    },
  );
  r.get('/api/v1/exchange/inbox', { schema: sec, preHandler: read }, async (req) => ({
    items: await requests.inbox(actor(req)),
  }));
  r.get(
    '/api/v1/exchange/inbox/:id/content',
    { schema: { ...sec, params: IdParams }, preHandler: read, exposeHeadRoute: false },
    async (req, reply) => sendDownload(reply, await requests.downloadReceived(actor(req), req.params.id, rangeOf(req))),
  );

  // ---- shares (送信) and approvals (上長承認) ----
  r.post('/api/v1/exchange/shares/preview', { schema: { ...sec, body: ShareBody }, preHandler: write }, async (req) =>
    shares.preview(actor(req), req.body),
  );
  r.post(
    '/api/v1/exchange/shares',
    { schema: { ...sec, body: ShareBody.extend({ confirmedDomains: z.array(z.string().max(253)).max(20) }) }, preHandler: write },
    async (req, reply) => reply.code(201).send(await shares.create(actor(req), req.body)),
  );
  r.get('/api/v1/exchange/shares', { schema: sec, preHandler: read }, async (req) => ({ items: await shares.list(actor(req)) }));
  r.get('/api/v1/exchange/shares/:id', { schema: { ...sec, params: IdParams }, preHandler: read }, async (req) =>
    shares.view(actor(req), req.params.id),
  );
  r.post(
    '/api/v1/exchange/shares/:id/revoke',
    { schema: { ...sec, params: IdParams }, preHandler: write },
    async (req, reply) => {
      await shares.revoke(actor(req), req.params.id);
      return reply.code(204).send();
    },
  );
  r.get('/api/v1/exchange/approvals', { schema: sec, preHandler: decide }, async (req) => ({
    items: await shares.approvals(actor(req)),
  }));
  r.post(
    '/api/v1/exchange/approvals/:id',
    { schema: { ...sec, params: IdParams, body: DecisionBody }, preHandler: decide },
    async (req) => shares.decide(actor(req), req.params.id, req.body.decision, req.body.comment),
  );
  r.get(
    '/api/v1/exchange/approvals/:id/files/:fileId/content',
    { schema: { ...sec, params: IdParams.extend({ fileId: z.uuid() }) }, preHandler: decide, exposeHeadRoute: false },
    async (req, reply) =>
      sendDownload(reply, await shares.approverDownload(actor(req), req.params.id, req.params.fileId, rangeOf(req))),
  );
  r.get('/api/v1/exchange/approvers', { schema: sec, preHandler: admin }, async (req) => ({
    items: await shares.listApprovers(actor(req)),
  }));
  r.put(
    '/api/v1/exchange/approvers/:id',
    { schema: { ...sec, params: IdParams, body: ApproversBody }, preHandler: admin },
    async (req, reply) => {
      await shares.setApprovers(actor(req), req.params.id, req.body.approvers);
      return reply.code(204).send();
    },
  );

  // ---- outside parties (internet zone; the services answer 404 elsewhere) ----
  const creds = (req: FastifyRequest, token: string): LinkCredentials => {
    if (!LINK_TOKEN.test(token)) throw new AppError('exchange.not_found');
    return {
      token,
      session: req.cookies[sessionCookieName(token)],
      ip: req.ip,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
      requestId: req.id,
    };
  };
  const setSession = (reply: FastifyReply, token: string, session: string) =>
    reply.setCookie(sessionCookieName(token), session, {
      path: '/api/v1/ext/',
      secure: true,
      httpOnly: true,
      sameSite: 'strict',
      maxAge: SESSION_MS / 1000,
    });
  const ext = { tags: ['exchange-external'], params: TokenParams };
  // Codes and verification are rate-limited per address on top of the per-link lock.
  const limited = { config: { rateLimit: { max: 20, timeWindow: 60_000 } } };

  r.get('/api/v1/ext/requests/:token', { schema: ext }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return requests.externalView(creds(req, req.params.token), req.zone);
  });
  r.post('/api/v1/ext/requests/:token/code', { schema: ext, ...limited }, async (req, reply) => {
    await requests.sendCode(creds(req, req.params.token), req.zone);
    return reply.code(204).send();
  });
  r.post(
    '/api/v1/ext/requests/:token/verify',
    { schema: { ...ext, body: z.object({ code: z.string().trim().max(20) }) }, ...limited },
    async (req, reply) => {
      const session = await requests.verify(creds(req, req.params.token), req.zone, req.body.code);
      return setSession(reply, req.params.token, session).code(204).send();
    },
  );
  r.get('/api/v1/ext/shares/:token', { schema: ext }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    return shares.externalView(creds(req, req.params.token), req.zone);
  });
  r.post('/api/v1/ext/shares/:token/code', { schema: ext, ...limited }, async (req, reply) => {
    await shares.sendCode(creds(req, req.params.token), req.zone);
    return reply.code(204).send();
  });
  r.post(
    '/api/v1/ext/shares/:token/verify',
    {
      schema: {
        ...ext,
        body: z.object({ code: z.string().trim().max(20).optional(), password: z.string().max(256).optional() }),
      },
      ...limited,
    },
    async (req, reply) => {
      const session = await shares.verify(creds(req, req.params.token), req.zone, req.body);
      return setSession(reply, req.params.token, session).code(204).send();
    },
  );
  r.get(
    '/api/v1/ext/shares/:token/files/:fileId/content',
    { schema: { ...ext, params: TokenParams.extend({ fileId: z.uuid() }) }, exposeHeadRoute: false },
    async (req, reply) =>
      sendDownload(reply, await shares.download(creds(req, req.params.token), req.zone, req.params.fileId, rangeOf(req))),
  );

  // Uploads by the outside party: one-request multipart, and tus for resumable uploads.
  await app.register(async (scope) => {
    await scope.register(multipart, {
      limits: { fileSize: services.config.uploads.maxFileBytes + 1, files: 1, fields: 0, parts: 1, headerPairs: 100 },
    });
    scope.withTypeProvider<ZodTypeProvider>().post('/api/v1/ext/requests/:token/files', { schema: ext }, async (req, reply) => {
      const c = creds(req, req.params.token);
      // Verified before the body is read: an unverified caller sends nothing into storage.
      await requests.linkActor(c, req.zone);
      const part = await req.file();
      if (!part) throw new AppError('upload.invalid', 'no file part');
      const n = Number(req.headers['content-length']);
      const declared = Number.isFinite(n) && n > 0 ? Math.max(0, n - 16 * 1024) : null;
      const receipt = await interrupted(req, () =>
        requests.upload(c, req.zone, { name: part.filename, contentType: part.mimetype, body: part.file, length: declared }),
      );
      return reply.code(201).send(receipt);
    });
  });
  const tokenOf = (req: FastifyRequest) => {
    const parsed = TokenParams.safeParse(req.params);
    if (!parsed.success) throw new AppError('exchange.not_found');
    return parsed.data.token;
  };
  await registerTusEndpoint(app, services, {
    base: '/api/v1/ext/requests/:token/uploads',
    actor: async (req) => (await requests.linkActor(creds(req, tokenOf(req)), req.zone)).actor,
    input: async (req, meta, length) => {
      const name = meta.filename;
      if (!name) throw new AppError('upload.invalid', 'Upload-Metadata needs filename');
      const { row } = await requests.uploadActor(creds(req, tokenOf(req)), req.zone, { name, length });
      return {
        folderId: row.folder_id,
        name,
        contentType: meta.filetype || 'application/octet-stream',
        onConflict: 'keep_both',
        length,
        zone: 'internet',
        exchangeRequestId: row.id,
      };
    },
    // The file is committed by now: it is recorded for the session's request even if the link ended meanwhile.
    finished: async (_req, reply, actor, s) => {
      const receipt = await requests.receivedUpload(actor, s.fileId!);
      reply.header('kura-sha256', receipt.sha256);
    },
  });
}
