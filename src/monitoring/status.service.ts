/**
 * The public per-zone service status (SC-03, MON-03): what the status page on both zones shows.
 * A zone is `operational` while its listener is up and the node is ready, `degraded` when the node
 * is up but a dependency is failing, `down` when its listener is not serving.
 */
import type { Clock } from '../core/clock.js';
import { ZONES, type Zone } from '../core/types.js';
import type { ReadinessService } from './readiness.service.js';

export type ZoneState = 'operational' | 'degraded' | 'down';

export interface ServiceStatus {
  service: 'kura';
  overall: ZoneState;
  zones: Array<{ zone: Zone; state: ZoneState }>;
  checkedAt: string;
}

/** The public status is unauthenticated: readiness behind it is checked at most this often. */
const READINESS_CACHE_MS = 5000;

export class StatusService {
  private readonly listening = new Set<Zone>();
  private cached: { at: number; ready: boolean } | undefined;

  constructor(private readonly deps: { readiness: ReadinessService; clock: Clock }) {}

  markListening(zone: Zone, up: boolean): void {
    if (up) this.listening.add(zone);
    else this.listening.delete(zone);
  }

  async current(): Promise<ServiceStatus> {
    const now = this.deps.clock.now().getTime();
    if (!this.cached || now - this.cached.at >= READINESS_CACHE_MS) {
      this.cached = { at: now, ready: (await this.deps.readiness.check()).ready };
    }
    const { ready } = this.cached;
    const zones = ZONES.map((zone) => ({
      zone,
      state: (!this.listening.has(zone) ? 'down' : ready ? 'operational' : 'degraded') as ZoneState,
    }));
    const rank: Record<ZoneState, number> = { operational: 0, degraded: 1, down: 2 };
    const overall = zones.reduce<ZoneState>((w, z) => (rank[z.state] > rank[w] ? z.state : w), 'operational');
    return { service: 'kura', overall, zones, checkedAt: this.deps.clock.now().toISOString() };
  }
}
