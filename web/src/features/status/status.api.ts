/** Client for the public status endpoint `GET /api/v1/status` (SC-03, MON-03). */
import { ApiError, getJson } from '../../api/api-client';

export const ZONES = ['lgwan', 'internet'] as const;
export type Zone = (typeof ZONES)[number];

export const ZONE_STATES = ['operational', 'degraded', 'down'] as const;
export type ZoneState = (typeof ZONE_STATES)[number];

export interface ServiceStatus {
  overall: ZoneState;
  zones: Array<{ zone: Zone; state: ZoneState }>;
  checkedAt: Date;
  /** The zone this browser reached Kura through. */
  via: Zone;
}

const isZone = (v: unknown): v is Zone => typeof v === 'string' && (ZONES as readonly string[]).includes(v);
const isZoneState = (v: unknown): v is ZoneState => typeof v === 'string' && (ZONE_STATES as readonly string[]).includes(v);

/** Checks the response shape; a body we do not understand is reported as an error, not half-rendered. */
export function parseStatus(body: unknown): ServiceStatus {
  const b = body as Record<string, unknown> | null;
  const zones = Array.isArray(b?.zones) ? (b.zones as Array<Record<string, unknown> | null>) : null;
  const checkedAt = typeof b?.checkedAt === 'string' ? new Date(b.checkedAt) : null;
  if (
    !b ||
    b.service !== 'kura' ||
    !isZoneState(b.overall) ||
    !isZone(b.via) ||
    !zones ||
    !zones.every((z) => isZone(z?.zone) && isZoneState(z?.state)) ||
    !checkedAt ||
    Number.isNaN(checkedAt.getTime())
  ) {
    throw new ApiError('unknown', 200);
  }
  return {
    overall: b.overall,
    zones: zones.map((z) => ({ zone: z?.zone as Zone, state: z?.state as ZoneState })),
    checkedAt,
    via: b.via,
  };
}

export async function fetchStatus(signal?: AbortSignal): Promise<ServiceStatus> {
  return parseStatus(await getJson('/api/v1/status', signal));
}
