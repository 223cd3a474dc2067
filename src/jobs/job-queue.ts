/**
 * The job queue (design §7): one `jobs` table on both engines. Claiming is a single atomic
 * `UPDATE … WHERE id = (SELECT … [FOR UPDATE SKIP LOCKED]) RETURNING`, safe with many workers and
 * many processes; a claimed job holds a lease (`locked_until`) that a crashed worker never
 * renews, so the job runs again. Every job must therefore be idempotent.
 */
import { sql } from 'kysely';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { SYSTEM_TENANT_ID, systemActor, type TenantId } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { Database, Executor } from '../db/database.js';
import type { JobsTable } from '../db/schema.js';

export interface EnqueueOptions {
  kind: string;
  payload?: Record<string, unknown>;
  tenantId?: string | null;
  runAt?: Date;
  maxAttempts?: number;
  /** A job with the same key is enqueued once (periodic runs, idempotent requests). */
  dedupeKey?: string;
}

export interface ClaimedJob {
  id: string;
  kind: string;
  tenantId: string | null;
  payload: Record<string, unknown>;
  attempts: number;
  maxAttempts: number;
  lockedUntil: string;
}

/** Retry policy: exponential backoff from 5 s, capped at 1 h, with ±20 % jitter. */
export const RETRY_BASE_MS = 5_000;
export const RETRY_MAX_MS = 60 * 60 * 1000;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_LEASE_MS = 60_000;
const MAX_ERROR_TEXT = 500;

export function backoffMs(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(base * (0.8 + 0.4 * random()));
}

export interface JobQueueDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
}

export class JobQueue {
  private readonly listeners = new Set<() => void>();

  constructor(private readonly deps: JobQueueDeps) {}

  /** Called when a caller has committed new due work (after its transaction), so idle local workers look now. */
  notify(): void {
    for (const fn of this.listeners) fn();
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Enqueues a job, inside the caller's transaction when given one. Returns the id, or null if deduplicated. */
  async enqueue(opts: EnqueueOptions, exec: Executor = this.deps.database.db): Promise<string | null> {
    const now = this.deps.clock.now();
    const id = randomId();
    const res = await exec
      .insertInto('jobs')
      .values({
        id,
        kind: opts.kind,
        tenant_id: opts.tenantId ?? null,
        payload: JSON.stringify(opts.payload ?? {}),
        state: 'queued',
        run_at: (opts.runAt ?? now).toISOString(),
        attempts: 0,
        max_attempts: opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
        last_error: null,
        locked_by: null,
        locked_until: null,
        dedupe_key: opts.dedupeKey ?? null,
        created_at: now.toISOString(),
        finished_at: null,
      })
      .onConflict((oc) => oc.column('dedupe_key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0 ? id : null;
  }

  /**
   * Claims the oldest due job (queued and due, or running with an expired lease) for `workerId`.
   * A job whose retry budget a crash already used up is failed instead of run again.
   */
  async claim(workerId: string, leaseMs = DEFAULT_LEASE_MS, kinds?: string[]): Promise<ClaimedJob | undefined> {
    for (;;) {
      const now = this.deps.clock.now();
      const nowIso = now.toISOString();
      const { db, dialect } = this.deps.database;
      let due = db
        .selectFrom('jobs')
        .select('id')
        .where((eb) =>
          eb.or([
            eb.and([eb('state', '=', 'queued'), eb('run_at', '<=', nowIso)]),
            eb.and([eb('state', '=', 'running'), eb('locked_until', '<', nowIso)]),
          ]),
        )
        .orderBy('run_at')
        .limit(1);
      if (kinds && kinds.length > 0) due = due.where('kind', 'in', kinds);
      if (dialect === 'postgres') due = due.forUpdate().skipLocked();
      const row = await db
        .updateTable('jobs')
        .set({
          state: 'running',
          locked_by: workerId,
          locked_until: new Date(now.getTime() + leaseMs).toISOString(),
          attempts: sql<number>`attempts + 1`,
        })
        .where('id', '=', due)
        .returning(['id', 'kind', 'tenant_id', 'payload', 'attempts', 'max_attempts', 'locked_until'])
        .executeTakeFirst();
      if (!row) return undefined;
      const job = toClaimed(row);
      if (job.attempts > job.maxAttempts) {
        await this.giveUp(job, workerId, 'lease expired: the worker stopped while running the job');
        continue;
      }
      return job;
    }
  }

  /** Extends the lease of a running job; false if the worker lost it. */
  async extend(job: ClaimedJob, workerId: string, leaseMs = DEFAULT_LEASE_MS): Promise<boolean> {
    const until = new Date(this.deps.clock.now().getTime() + leaseMs).toISOString();
    const res = await this.deps.database.db
      .updateTable('jobs')
      .set({ locked_until: until })
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Marks a job done; false if the lease was lost (another worker took it over). */
  async complete(job: ClaimedJob, workerId: string): Promise<boolean> {
    const res = await this.deps.database.db
      .updateTable('jobs')
      .set({
        state: 'done',
        finished_at: this.deps.clock.now().toISOString(),
        locked_by: null,
        locked_until: null,
        last_error: null,
      })
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  /** Records a failure: retried with backoff while attempts remain, otherwise failed with a fault event. */
  async fail(job: ClaimedJob, workerId: string, error: unknown): Promise<'retry' | 'failed' | 'lost'> {
    const message = errorText(error);
    if (job.attempts >= job.maxAttempts) return (await this.giveUp(job, workerId, message)) ? 'failed' : 'lost';
    const runAt = new Date(this.deps.clock.now().getTime() + backoffMs(job.attempts)).toISOString();
    const res = await this.deps.database.db
      .updateTable('jobs')
      .set({ state: 'queued', run_at: runAt, last_error: message, locked_by: null, locked_until: null })
      .where('id', '=', job.id)
      .where('locked_by', '=', workerId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1 ? 'retry' : 'lost';
  }

  async get(jobId: string): Promise<JobsTable | undefined> {
    return this.deps.database.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
  }

  /** Counts by state for metrics and the monitoring dashboard. */
  async depth(): Promise<Record<JobsTable['state'], number>> {
    const rows = await this.deps.database.db
      .selectFrom('jobs')
      .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('state')
      .execute();
    const out = { queued: 0, running: 0, done: 0, failed: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }

  private async giveUp(job: ClaimedJob, workerId: string, message: string): Promise<boolean> {
    return this.deps.database.transaction(async (trx) => {
      const res = await trx
        .updateTable('jobs')
        .set({
          state: 'failed',
          finished_at: this.deps.clock.now().toISOString(),
          last_error: message,
          locked_by: null,
          locked_until: null,
        })
        .where('id', '=', job.id)
        .where('locked_by', '=', workerId)
        .where('state', '=', 'running')
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return false;
      const tenantId = (job.tenantId ?? SYSTEM_TENANT_ID) as TenantId;
      await this.deps.audit.append(trx, systemActor(tenantId, `worker:${workerId}`), {
        action: 'job.failed',
        target: { type: 'job', id: job.id },
        outcome: 'error',
        reason: 'job.retry_budget_exhausted',
        details: { kind: job.kind, attempts: job.attempts, error: message },
      });
      return true;
    });
  }
}

function toClaimed(
  row: Pick<JobsTable, 'id' | 'kind' | 'tenant_id' | 'payload' | 'attempts' | 'max_attempts' | 'locked_until'>,
): ClaimedJob {
  return {
    id: row.id,
    kind: row.kind,
    tenantId: row.tenant_id,
    payload: JSON.parse(row.payload) as Record<string, unknown>,
    attempts: Number(row.attempts),
    maxAttempts: Number(row.max_attempts),
    lockedUntil: row.locked_until!,
  };
}

/** A bounded, single-line error description; job errors must not carry secrets (LOG-06). */
function errorText(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.replace(/\s+/g, ' ').slice(0, MAX_ERROR_TEXT);
}
