/** Folders, files, versions, downloads, trash and quotas (issue 4). Thin: schema, guard, one service call. */
import multipart from '@fastify/multipart';
import contentDisposition from 'content-disposition';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Download } from './file.service.js';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import parseRange from 'range-parser';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { requireAuth, SESSION_SECURITY } from '../identity/auth.hooks.js';
import { requireFeature } from '../tenants/feature-guard.js';
import {
  CopyFileBody,
  CreateFolderBody,
  DirectoryReply,
  FileDetailDto,
  FileDto,
  FolderDto,
  FolderListing,
  GrantBody,
  OnConflictSchema,
  PermissionsReply,
  QuotaReply,
  RestoreBody,
  RootsReply,
  TrashReply,
  UpdateFileBody,
  UpdateFolderBody,
} from './files.schemas.js';

const IdParams = z.object({ id: z.uuid() });
const GrantParams = z.object({ id: z.uuid(), grantId: z.uuid() });
const TrashParams = z.object({ kind: z.enum(['file', 'folder']), id: z.uuid() });
const UploadQuery = z.object({ onConflict: OnConflictSchema.default('error') });
const ContentQuery = z.object({
  version: z.coerce.number().int().min(1).optional(),
  /** LGWAN: the original of an internet-origin file instead of its 無害化 rebuild (needs an approval). */
  original: z.enum(['1', 'true']).optional(),
});
const tags = ['files'];

/** Roles that may create top-level folders; guests and auditors work only in folders shared with them. */
const TOP_LEVEL_CREATORS = new Set(['tenant_admin', 'staff', 'approver']);

/**
 * A client that goes away mid-upload is not a fault of ours: its stream error becomes a 400 (nothing
 * was stored; the blob is removed) instead of a 500 with a fault event. Store failures stay 500s.
 */
export async function interrupted<T>(req: FastifyRequest, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof AppError) && req.raw.aborted) throw new AppError('upload.invalid', 'the client closed the connection');
    throw err;
  }
}

/**
 * The single byte range a request asks for (RFC 9110 §14), as a function of the size and ETag of
 * what would be sent; 416 when unsatisfiable. With `If-Range`, only if it names that very ETag: a
 * download resumed after a new version arrived gets the whole new file, never a mix of two.
 */
export function rangeOf(req: FastifyRequest): (size: number, etag?: string) => { start: number; end: number } | null {
  const rangeHeader = req.headers.range;
  const ifRange = req.headers['if-range'];
  return (size, etag) => {
    if (typeof rangeHeader !== 'string' || size === 0) return null;
    // A date or a weak tag never matches (we send no Last-Modified; If-Range needs a strong match).
    if (typeof ifRange === 'string' && ifRange.trim() !== etag) return null;
    const parsed = parseRange(size, rangeHeader, { combine: true });
    if (parsed === -1) throw new AppError('download.range_invalid');
    // Malformed, non-byte or multiple ranges: ignore the header and send everything (RFC 9110 §14.2).
    if (parsed === -2 || parsed.type !== 'bytes' || parsed.length !== 1) return null;
    return { start: parsed[0]!.start, end: parsed[0]!.end };
  };
}

/** Sends a download (issue 4 §7): attachment only, RFC 6266 filename*, one range, no caching anywhere. */
export function sendDownload(reply: FastifyReply, d: Download): FastifyReply {
  reply.header('content-type', d.contentType);
  reply.header('content-disposition', contentDisposition(d.name, { type: 'attachment' }));
  reply.header('x-content-type-options', 'nosniff');
  reply.header('cache-control', 'no-store');
  reply.header('etag', d.etag);
  reply.header('accept-ranges', 'bytes');
  reply.header('x-kura-sha256', d.sha256);
  reply.header('x-kura-version', String(d.version));
  if (d.sanitised) reply.header('x-kura-sanitised', '1');
  if (d.range) {
    reply.code(206);
    reply.header('content-range', `bytes ${d.range.start}-${d.range.end}/${d.size}`);
    reply.header('content-length', String(d.range.end - d.range.start + 1));
  } else {
    reply.header('content-length', String(d.size));
  }
  return reply.send(d.stream);
}

export async function registerFileRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { folders, files, trash, groups } = services;
  const read = requireAuth(services, { scope: 'files:read' });
  const write = requireAuth(services, { scope: 'files:write' });
  const actor = (req: FastifyRequest) => req.principal!.actor;

  r.get(
    '/api/v1/folders/roots',
    { schema: { tags, response: { 200: RootsReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => ({
      folders: await folders.roots(actor(req)),
    }),
  );

  r.post(
    '/api/v1/folders',
    { schema: { tags, body: CreateFolderBody, response: { 201: FolderDto }, security: SESSION_SECURITY }, preHandler: write },
    async (req, reply) => {
      if (req.body.parentId === null && !TOP_LEVEL_CREATORS.has(req.principal!.user.role)) throw new AppError('auth.forbidden');
      return reply.code(201).send(await folders.create(actor(req), req.body));
    },
  );

  r.get(
    '/api/v1/folders/:id',
    { schema: { tags, params: IdParams, response: { 200: FolderListing }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => folders.list(actor(req), req.params.id),
  );

  r.patch(
    '/api/v1/folders/:id',
    {
      schema: { tags, params: IdParams, body: UpdateFolderBody, response: { 200: FolderDto }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req) => {
      let dto = req.body.parentId ? await folders.move(actor(req), req.params.id, req.body.parentId) : undefined;
      if (req.body.name !== undefined) dto = await folders.rename(actor(req), req.params.id, req.body.name);
      return dto!;
    },
  );

  r.delete(
    '/api/v1/folders/:id',
    { schema: { tags, params: IdParams, security: SESSION_SECURITY }, preHandler: write },
    async (req, reply) => {
      await folders.trash(actor(req), req.params.id);
      return reply.code(204).send();
    },
  );

  r.post(
    '/api/v1/folders/:id/restore',
    {
      schema: { tags, params: IdParams, body: RestoreBody, response: { 200: FolderDto }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req) => folders.restore(actor(req), req.params.id, req.body.onConflict),
  );

  r.get(
    '/api/v1/folders/:id/permissions',
    { schema: { tags, params: IdParams, response: { 200: PermissionsReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => folders.permissions(actor(req), req.params.id),
  );

  r.post(
    '/api/v1/folders/:id/permissions',
    {
      schema: { tags, params: IdParams, body: GrantBody, response: { 200: PermissionsReply }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req) => folders.grant(actor(req), req.params.id, req.body),
  );

  r.delete(
    '/api/v1/folders/:id/permissions/:grantId',
    { schema: { tags, params: GrantParams, response: { 200: PermissionsReply }, security: SESSION_SECURITY }, preHandler: write },
    async (req) => folders.revoke(actor(req), req.params.id, req.params.grantId),
  );

  r.get(
    '/api/v1/files/:id',
    { schema: { tags, params: IdParams, response: { 200: FileDetailDto }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => files.detail(actor(req), req.params.id),
  );

  r.patch(
    '/api/v1/files/:id',
    {
      schema: { tags, params: IdParams, body: UpdateFileBody, response: { 200: FileDto }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req) => {
      const { name, folderId, onConflict } = req.body;
      let dto = folderId ? await files.move(actor(req), req.params.id, folderId, onConflict) : undefined;
      if (name !== undefined) dto = await files.rename(actor(req), req.params.id, name, onConflict);
      return dto!;
    },
  );

  r.post(
    '/api/v1/files/:id/copy',
    {
      schema: { tags, params: IdParams, body: CopyFileBody, response: { 201: FileDto }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req, reply) => reply.code(201).send(await files.copy(actor(req), req.params.id, req.body)),
  );

  r.delete(
    '/api/v1/files/:id',
    { schema: { tags, params: IdParams, security: SESSION_SECURITY }, preHandler: write },
    async (req, reply) => {
      await files.trash(actor(req), req.params.id);
      return reply.code(204).send();
    },
  );

  r.post(
    '/api/v1/files/:id/restore',
    {
      schema: { tags, params: IdParams, body: RestoreBody, response: { 200: FileDto }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req) => files.restore(actor(req), req.params.id, req.body.onConflict),
  );

  // Downloads (issue 4 §7): attachment only, RFC 6266 filename*, single range, no caching anywhere.
  r.get(
    '/api/v1/files/:id/content',
    {
      schema: { tags, params: IdParams, querystring: ContentQuery, security: SESSION_SECURITY },
      preHandler: read,
      // A HEAD would open, decrypt and audit a download nobody reads.
      exposeHeadRoute: false,
    },
    async (req, reply) => {
      requireFeature(req.principal!.settings, req.zone, 'downloads');
      const d = await files.download(actor(req), req.params.id, {
        version: req.query.version,
        original: req.query.original !== undefined,
        range: rangeOf(req),
      });
      return sendDownload(reply, d);
    },
  );

  // Point-in-time recovery of a folder (MAL-09): a dry run shows the plan, the real run applies it.
  r.post(
    '/api/v1/folders/:id/restore-point',
    {
      schema: {
        tags,
        params: IdParams,
        body: z.object({ at: z.iso.datetime({ offset: true }), dryRun: z.boolean().default(true) }),
        security: SESSION_SECURITY,
      },
      preHandler: write,
    },
    async (req) =>
      services.recovery.restoreFolder(actor(req), req.params.id, new Date(req.body.at).toISOString(), req.body.dryRun),
  );

  r.get(
    '/api/v1/trash',
    { schema: { tags, response: { 200: TrashReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => trash.list(actor(req)),
  );

  r.delete(
    '/api/v1/trash/:kind/:id',
    { schema: { tags, params: TrashParams, security: SESSION_SECURITY }, preHandler: write },
    async (req, reply) => {
      await trash.purge(actor(req), req.params.kind, req.params.id);
      return reply.code(204).send();
    },
  );

  r.get(
    '/api/v1/quota',
    { schema: { tags, response: { 200: QuotaReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => files.quota(actor(req)),
  );

  r.get(
    '/api/v1/directory',
    { schema: { tags, response: { 200: DirectoryReply }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => groups.directory(actor(req).tenantId),
  );

  // Simple uploads (multipart/form-data, one file part) in their own scope, so the multipart parser applies only here.
  await app.register(async (scope) => {
    await scope.register(multipart, {
      // One byte more than the largest file: our own limit check fires first, with our error code.
      limits: { fileSize: services.config.uploads.maxFileBytes + 1, files: 1, fields: 0, parts: 1, headerPairs: 100 },
    });
    const s = scope.withTypeProvider<ZodTypeProvider>();
    const declared = (req: FastifyRequest) => {
      const n = Number(req.headers['content-length']);
      // The multipart framing adds a few hundred bytes; the body can only be smaller than the request.
      return Number.isFinite(n) && n > 0 ? Math.max(0, n - 16 * 1024) : null;
    };
    s.post(
      '/api/v1/folders/:id/files',
      {
        schema: { tags, params: IdParams, querystring: UploadQuery, response: { 201: FileDto }, security: SESSION_SECURITY },
        preHandler: write,
      },
      async (req, reply) => {
        const part = await req.file();
        if (!part) throw new AppError('upload.invalid', 'no file part');
        const dto = await interrupted(req, () =>
          files.upload(
            actor(req),
            {
              folderId: req.params.id,
              name: part.filename,
              contentType: part.mimetype,
              onConflict: req.query.onConflict,
              zone: req.zone,
            },
            part.file,
            declared(req),
          ),
        );
        return reply.code(201).send(dto);
      },
    );
    s.post(
      '/api/v1/files/:id/versions',
      { schema: { tags, params: IdParams, response: { 201: FileDto }, security: SESSION_SECURITY }, preHandler: write },
      async (req, reply) => {
        const detail = await files.detail(actor(req), req.params.id);
        const part = await req.file();
        if (!part) throw new AppError('upload.invalid', 'no file part');
        const dto = await interrupted(req, () =>
          files.upload(
            actor(req),
            {
              folderId: detail.folderId,
              fileId: detail.id,
              name: detail.name,
              contentType: part.mimetype,
              onConflict: 'error',
              zone: req.zone,
            },
            part.file,
            declared(req),
          ),
        );
        return reply.code(201).send(dto);
      },
    );
  });
}
