/**
 * Liveness, readiness, metrics and the public status (MON-01, SC-03). Readiness details and
 * metrics are shown only to the configured monitoring addresses (default loopback).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Services } from '../app/services.js';
import { AddressAllowList } from '../core/address-allow.js';
import { sendError } from '../http/error-handler.js';
import { HealthDto, ReadyDto, StatusDto } from './health.schemas.js';

export async function registerHealthRoutes(app: FastifyInstance, services: Services): Promise<void> {
  const r = app.withTypeProvider<ZodTypeProvider>();
  const monitors = new AddressAllowList(services.config.monitoringAllow);

  r.get(
    '/healthz',
    { schema: { tags: ['monitoring'], response: { 200: HealthDto } }, config: { rateLimit: false } },
    async () => ({
      status: 'ok' as const,
    }),
  );

  r.get(
    '/readyz',
    { schema: { tags: ['monitoring'], response: { 200: ReadyDto, 503: ReadyDto } }, config: { rateLimit: false } },
    async (request, reply) => {
      const readiness = await services.readiness.current();
      const body = {
        status: readiness.ready ? ('ready' as const) : ('not_ready' as const),
        ...(monitors.allows(request.ip) ? { components: readiness.components } : {}),
      };
      return reply.code(readiness.ready ? 200 : 503).send(body);
    },
  );

  r.get('/metrics', { schema: { hide: true }, config: { rateLimit: false } }, async (request, reply) => {
    if (!monitors.allows(request.ip)) return sendError(reply, request, 'request.forbidden_address');
    return reply.type(services.metrics.registry.contentType).send(await services.metrics.registry.metrics());
  });

  r.get('/api/v1/status', { schema: { tags: ['status'], response: { 200: StatusDto } } }, async (request) => ({
    ...(await services.status.current()),
    via: request.zone,
  }));
}
