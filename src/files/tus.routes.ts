/**
 * The tus 1.0 endpoint (core, creation, termination, checksum with sha256) for resumable uploads,
 * so standard clients (tus-js-client, Uppy) work. Metadata: `filename`, `folderId`, optional
 * `fileId` (a new version), `filetype`, `onConflict` (`error` | `keep_both`). The finishing PATCH
 * answers with `Kura-File-Id`.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { AppError } from '../core/errors.js';
import { requireAuth } from '../identity/auth.hooks.js';
import type { UploadState } from './upload.service.js';

const TUS_VERSION = '1.0.0';
const OFFSET_TYPE = 'application/offset+octet-stream';
const IdParams = z.object({ id: z.uuid() });
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
  const { uploads } = services;
  const guard = requireAuth(services, { scope: 'files:write' });

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

    scope.options('/api/v1/uploads', async (_req, reply) =>
      reply
        .code(204)
        .header('tus-version', TUS_VERSION)
        .header('tus-extension', 'creation,termination,checksum')
        .header('tus-checksum-algorithm', 'sha256')
        .header('tus-max-size', String(services.config.uploads.maxFileBytes))
        .send(),
    );

    scope.post('/api/v1/uploads', { preHandler: guard }, async (req, reply) => {
      if (req.headers['upload-defer-length']) throw new AppError('upload.invalid', 'Upload-Defer-Length is not supported');
      const length = headerInt(req, 'upload-length');
      if (length === null) throw new AppError('upload.invalid', 'Upload-Length required');
      const meta = Metadata.safeParse(parseUploadMetadata(req.headers['upload-metadata'] as string | undefined));
      if (!meta.success) throw new AppError('upload.invalid', 'Upload-Metadata needs filename and folderId');
      const m = meta.data;
      const s = await uploads.create(req.principal!.actor, {
        folderId: m.folderId,
        fileId: m.fileId,
        name: m.filename,
        contentType: m.filetype ?? 'application/octet-stream',
        onConflict: m.onConflict,
        length,
        zone: req.zone,
      });
      return tusHeaders(reply.code(201), s).header('location', `/api/v1/uploads/${s.id}`).send();
    });

    scope.route({
      method: 'HEAD',
      url: '/api/v1/uploads/:id',
      preHandler: guard,
      handler: async (req, reply) => {
        const { id } = IdParams.parse(req.params);
        return tusHeaders(reply.code(200), await uploads.get(req.principal!.actor, id)).send();
      },
    });

    scope.patch('/api/v1/uploads/:id', { preHandler: guard }, async (req, reply) => {
      const { id } = IdParams.parse(req.params);
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
      const s = await uploads.append(req.principal!.actor, id, offset, req.raw, checksum);
      return tusHeaders(reply.code(204), s).send();
    });

    scope.delete('/api/v1/uploads/:id', { preHandler: guard }, async (req, reply) => {
      const { id } = IdParams.parse(req.params);
      await uploads.terminate(req.principal!.actor, id);
      return tusHeaders(reply.code(204)).send();
    });
  });
}
