import { z } from 'zod';

export const HealthDto = z.object({ status: z.literal('ok') });

export const ReadyDto = z.object({
  status: z.enum(['ready', 'not_ready']),
  components: z.array(z.object({ name: z.string(), ok: z.boolean(), reason: z.string().optional() })).optional(),
});

export const ZoneStateDto = z.enum(['operational', 'degraded', 'down']);

export const StatusDto = z.object({
  service: z.literal('kura'),
  overall: ZoneStateDto,
  zones: z.array(z.object({ zone: z.enum(['lgwan', 'internet']), state: ZoneStateDto })),
  checkedAt: z.string(),
  /** The zone this answer came through. */
  via: z.enum(['lgwan', 'internet']),
});
export type StatusDto = z.infer<typeof StatusDto>;
