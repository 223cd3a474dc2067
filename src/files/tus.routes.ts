/**
 * The tus 1.0 endpoint (core, creation, termination, checksum with sha256) for resumable uploads,
 * so standard clients (tus-js-client, Uppy) work. Metadata: `filename`, `folderId`, optional
 * `fileId` (a new version), `filetype`, `onConflict` (`error` | `keep_both`). The finishing PATCH
 * answers with `Kura-File-Id`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { requireAuth } from '../identity/auth.hooks.js';
import type { Actor } from '../core/types.js';
import type { CreateUploadInput, UploadState } from './upload.service.js';

const TUS_VERSION = '1.0.0';
const OFFSET_TYPE = 'application/offset+octet-stream';
const IdParams = z.object({ id: z.uuid() });

/** The session id in the URL; anything that is not one of ours is simply not found. */
function uploadIdOf(req: FastifyRequest): string {
  const parsed = IdParams.safeParse(req.params);
  if (!parsed.success) throw new AppError('upload.not_found');
  return parsed.data.id;
}
const Metadata = z.object({
  filename: z.string().min(1).max(1000),
  folderId: z.uuid(),
  fileId: z.uuid().optional(),
  filetype: z.string().max(200).optional(),
  onConflict: z.enum(['error', 'keep_both']).default('error'),
});

/** Parses `Upload-Metadata`: comma-separated `key base64value` pairs (tus creation extension). */
export function parseUploadMetadata(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header) return out;
  for (const pair of header.split(',')) {
    const [key, value, extra] = pair.trim().split(' ');
    if (!key || extra !== undefined || !/^[A-Za-z0-9_.-]+$/.test(key))
      throw new AppError('upload.invalid', 'bad Upload-Metadata');
    if (value !== undefined && !/^[A-Za-z0-9+/]*={0,2}$/.test(value))
      throw new AppError('upload.invalid', 'bad Upload-Metadata value');
    out[key] = value ? Buffer.from(value, 'base64').toString('utf8') : '';
  }
  return out;
}

function headerInt(req: FastifyRequest, name: string): number | null {
  const v = req.headers[name];
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) return null;
  return Number(v);
}

function tusHeaders(reply: FastifyReply, s?: UploadState): FastifyReply {
  reply.header('tus-resumable', TUS_VERSION).header('cache-control', 'no-store');
  if (s) {
    reply.header('upload-offset', String(s.offset)).header('upload-length', String(s.length));
    reply.header('upload-expires', new Date(s.expiresAt).toUTCString());
    if (s.fileId) reply.header('kura-file-id', s.fileId);
  }
  return reply;
}

export async function registerTusRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const guard = requireAuth(services, { scope: 'files:write' });
  await registerTusEndpoint(app, services, {
    base: '/api/v1/uploads',
    guard,
    actor: (req) => req.principal!.actor,
    input: (req, meta, length) => {
      const parsed = Metadata.safeParse(meta);
      if (!parsed.success) throw new AppError('upload.invalid', 'Upload-Metadata needs filename and folderId');
      const m = parsed.data;
      return {
        folderId: m.folderId,
        fileId: m.fileId,
        name: m.filename,
        contentType: m.filetype ?? 'application/octet-stream',
        onConflict: m.onConflict,
        length,
        zone: req.zone,
      };
    },
  });
}

/** One tus endpoint: who uploads, and what a new session stores; the protocol handling is shared. */
export interface TusEndpoint {
  /** Path of the creation URL; sessions live under `${base}/:id`. May hold parameters (`:token`). */
  base: string;
  guard?: preHandlerAsyncHookHandler;
  actor: (req: FastifyRequest) => Actor | Promise<Actor>;
  /** The session to create from `Upload-Metadata` and `Upload-Length`; refuses (4xx) before any byte is stored. */
  input: (
    req: FastifyRequest,
    meta: Record<string, string>,
    length: number,
    actor: Actor,
  ) => CreateUploadInput | Promise<CreateUploadInput>;
  /** Runs after the PATCH that completed the file (and again if a client repeats it); may add headers. */
  finished?: (req: FastifyRequest, reply: FastifyReply, actor: Actor, s: UploadState) => Promise<void>;
}

export async function registerTusEndpoint(app: FastifyInstance, services: Services, ep: TusEndpoint): Promise<void> {
  const { uploads } = services;
  const guard = ep.guard ? [ep.guard] : [];
  const location = (req: FastifyRequest, id: string) => `${req.url.split('?')[0]!.replace(/\/+$/, '')}/${id}`;

  await app.register(async (scope) => {
    // PATCH bodies stream straight into the upload service; nothing buffers them.
    scope.addContentTypeParser(OFFSET_TYPE, (_req, _payload, done) => done(null));
    scope.addHook('onSend', async (_req, reply) => {
      reply.header('tus-resumable', TUS_VERSION);
    });
    scope.addHook('preHandler', async (req, reply) => {
      if (req.method !== 'OPTIONS' && req.headers['tus-resumable'] !== TUS_VERSION) {
        reply.header('tus-version', TUS_VERSION);
        throw new AppError('upload.invalid', 'Tus-Resumable 1.0.0 required');
      }
    });

    scope.options(ep.base, async (_req, reply) =>
      reply
        .code(204)
        .header('tus-version', TUS_VERSION)
        .header('tus-extension', 'creation,termination,checksum')
        .header('tus-checksum-algorithm', 'sha256')
        .header('tus-max-size', String(services.config.uploads.maxFileBytes))
        .send(),
    );

    scope.post(ep.base, { preHandler: guard }, async (req, reply) => {
      if (req.headers['upload-defer-length']) throw new AppError('upload.invalid', 'Upload-Defer-Length is not supported');
      const length = headerInt(req, 'upload-length');
      if (length === null) throw new AppError('upload.invalid', 'Upload-Length required');
      const meta = parseUploadMetadata(req.headers['upload-metadata'] as string | undefined);
      const actor = await ep.actor(req);
      const s = await uploads.create(actor, await ep.input(req, meta, length, actor));
      if (s.fileId) await ep.finished?.(req, reply, actor, s);
      return tusHeaders(reply.code(201), s).header('location', location(req, s.id)).send();
    });

    scope.route({
      method: 'HEAD',
      url: `${ep.base}/:id`,
      preHandler: guard,
      handler: async (req, reply) => {
        const id = uploadIdOf(req);
        return tusHeaders(reply.code(200), await uploads.get(await ep.actor(req), id)).send();
      },
    });

    scope.patch(`${ep.base}/:id`, { preHandler: guard }, async (req, reply) => {
      const id = uploadIdOf(req);
      if (req.headers['content-type'] !== OFFSET_TYPE) throw new AppError('request.unsupported_media_type');
      const offset = headerInt(req, 'upload-offset');
      if (offset === null) throw new AppError('upload.invalid', 'Upload-Offset required');
      let checksum: Buffer | null = null;
      const ck = req.headers['upload-checksum'];
      if (typeof ck === 'string') {
        const [algo, value] = ck.trim().split(' ');
        if (algo !== 'sha256') throw new AppError('upload.checksum_unsupported');
        checksum = Buffer.from(value ?? '', 'base64');
        if (checksum.length !== 32) throw new AppError('upload.invalid', 'bad Upload-Checksum');
      }
      const actor = await ep.actor(req);
      const s = await uploads.append(actor, id, offset, req.raw, checksum);
      if (s.fileId) await ep.finished?.(req, reply, actor, s);
      return tusHeaders(reply.code(204), s).send();
    });

    scope.delete(`${ep.base}/:id`, { preHandler: guard }, async (req, reply) => {
      const id = uploadIdOf(req);
      await uploads.terminate(await ep.actor(req), id);
      return tusHeaders(reply.code(204)).send();
    });
  });
}
