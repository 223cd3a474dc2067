/**
 * Periodic jobs through the same table (design §7): each period's run carries a dedupe key and a
 * schedule row's `next_run_at` is advanced by compare-and-set, so with N nodes ticking, exactly one
 * run is enqueued per period.
 */
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import type { JobQueue } from './job-queue.js';

export interface ScheduleDefinition {
  name: string;
  kind: string;
  intervalMs: number;
  payload?: Record<string, unknown>;
}

export class Scheduler {
  constructor(
    private readonly database: Database,
    private readonly queue: JobQueue,
    private readonly clock: Clock,
  ) {}

  /** Registers or updates a schedule; a new one is due at once. */
  async ensure(def: ScheduleDefinition): Promise<void> {
    const { db } = this.database;
    const payload = JSON.stringify(def.payload ?? {});
    await db
      .insertInto('job_schedules')
      .values({
        name: def.name,
        kind: def.kind,
        payload,
        interval_ms: def.intervalMs,
        next_run_at: this.clock.now().toISOString(),
      })
      .onConflict((oc) => oc.column('name').doUpdateSet({ kind: def.kind, payload, interval_ms: def.intervalMs }))
      .execute();
  }

  /** Enqueues every due schedule once; returns how many runs this node enqueued. */
  async tick(): Promise<number> {
    const now = this.clock.now();
    const due = await this.database.db
      .selectFrom('job_schedules')
      .select(['name', 'kind', 'payload', 'interval_ms', 'next_run_at'])
      .where('next_run_at', '<=', now.toISOString())
      .execute();
    let enqueued = 0;
    for (const s of due) {
      const interval = Number(s.interval_ms);
      const last = Date.parse(s.next_run_at);
      // Missed periods (node down) collapse into one run; the next slot stays on the grid.
      const periods = Math.floor((now.getTime() - last) / interval) + 1;
      const next = new Date(last + periods * interval).toISOString();
      // Two single statements, no transaction: the dedupe key lets exactly one node enqueue this
      // slot's run, and the compare-and-set moves the slot on (a crash between them is harmless:
      // the next tick finds the same slot, its run already enqueued, and only advances it).
      const id = await this.queue.enqueue({
        kind: s.kind,
        payload: JSON.parse(s.payload) as Record<string, unknown>,
        dedupeKey: `schedule:${s.name}:${s.next_run_at}`,
      });
      await this.database.db
        .updateTable('job_schedules')
        .set({ next_run_at: next })
        .where('name', '=', s.name)
        .where('next_run_at', '=', s.next_run_at)
        .execute();
      const won = id !== null;
      if (won) enqueued++;
    }
    return enqueued;
  }
}
