/** Tenant-admin pages of the files capability: folder owners (HR-04) and the tenant key (ENC-03). */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { requireAuth, SESSION_SECURITY } from '../identity/auth.hooks.js';

const tags = ['admin'];
const OwnershipReply = z.object({
  folders: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      parentId: z.string().nullable(),
      ownerId: z.string(),
      ownerName: z.string(),
      ownerLoginId: z.string(),
      /** False when the owner was suspended or deleted: the folder needs a new owner. */
      ownerActive: z.boolean(),
    }),
  ),
});
const KeysReply = z.object({
  activeVersion: z.number().int(),
  versions: z.array(z.object({ version: z.number().int(), state: z.string(), createdAt: z.string() })),
  /** Blobs whose data key is still wrapped by an older key version (the re-wrap job is running). */
  pendingBlobs: z.number().int(),
  pendingSecrets: z.number().int(),
});

export async function registerFilesAdminRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const admin = requireAuth(services, { roles: ['tenant_admin'] });

  r.get(
    '/api/v1/admin/folders',
    { schema: { tags, response: { 200: OwnershipReply }, security: SESSION_SECURITY }, preHandler: admin },
    async (req) => ({
      folders: await services.folders.ownership(req.principal!.actor.tenantId),
    }),
  );

  r.put(
    '/api/v1/admin/folders/:id/owner',
    {
      schema: { tags, params: z.object({ id: z.uuid() }), body: z.object({ userId: z.uuid() }), security: SESSION_SECURITY },
      preHandler: admin,
    },
    async (req, reply) => {
      await services.folders.setOwner(req.principal!.actor, req.params.id, req.body.userId);
      return reply.code(204).send();
    },
  );

  r.get(
    '/api/v1/admin/keys',
    { schema: { tags, response: { 200: KeysReply }, security: SESSION_SECURITY }, preHandler: admin },
    async (req) => services.keyRotation.status(req.principal!.tenant.id),
  );

  r.post(
    '/api/v1/admin/keys/rotate',
    {
      schema: { tags, response: { 200: KeysReply }, security: SESSION_SECURITY },
      preHandler: requireAuth(services, { roles: ['tenant_admin'], stepUp: true }),
    },
    async (req) => {
      await services.keyRotation.rotate(req.principal!.actor, req.principal!.tenant.id);
      return services.keyRotation.status(req.principal!.tenant.id);
    },
  );

  r.post(
    '/api/v1/admin/keys/:version/destroy',
    {
      schema: {
        tags,
        params: z.object({ version: z.coerce.number().int().min(1).max(1_000_000) }),
        response: { 200: KeysReply },
        security: SESSION_SECURITY,
      },
      preHandler: requireAuth(services, { roles: ['tenant_admin'], stepUp: true }),
    },
    async (req) => {
      await services.keyRotation.destroy(req.principal!.actor, req.principal!.tenant.id, req.params.version);
      return services.keyRotation.status(req.principal!.tenant.id);
    },
  );
}
