/**
 * Classification labels (PII-01): the tenant's label configuration for every signed-in user, and
 * setting labels on files (editor) and folders (manager). Thin: schema, guard, one service call.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Services } from '../app/services.js';
import { EffectiveLabelsDto } from '../files/files.schemas.js';
import { requireAuth, SESSION_SECURITY } from '../identity/auth.hooks.js';

const tags = ['labels'];
const IdParams = z.object({ id: z.uuid() });
const LabelsBody = z.object({ labels: z.array(z.string().min(1).max(40)).max(50) });
const LabelConfig = z.object({
  levels: z.array(z.string()),
  defaultLevel: z.string(),
  flags: z.array(z.string()),
  myNumberLabel: z.string(),
  patterns: z.array(z.object({ name: z.string(), label: z.string() })),
});

export async function registerLabelRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const { labels } = services;
  const read = requireAuth(services, { scope: 'files:read' });
  const write = requireAuth(services, { scope: 'files:write' });

  r.get(
    '/api/v1/labels',
    { schema: { tags, response: { 200: LabelConfig }, security: SESSION_SECURITY }, preHandler: read },
    async (req) => labels.config(req.principal!.tenant.id),
  );

  r.put(
    '/api/v1/files/:id/labels',
    {
      schema: { tags, params: IdParams, body: LabelsBody, response: { 200: EffectiveLabelsDto }, security: SESSION_SECURITY },
      preHandler: write,
    },
    async (req) => labels.setFileLabels(req.principal!.actor, req.params.id, req.body.labels),
  );

  r.put(
    '/api/v1/folders/:id/labels',
    {
      schema: {
        tags,
        params: IdParams,
        body: LabelsBody,
        response: { 200: z.object({ labels: z.array(z.string()) }) },
        security: SESSION_SECURITY,
      },
      preHandler: write,
    },
    async (req) => ({ labels: await labels.setFolderLabels(req.principal!.actor, req.params.id, req.body.labels) }),
  );
}
