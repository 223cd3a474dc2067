/** The worker loop: claims jobs, runs their handler with a renewed lease, records the outcome. */
import type { ClaimedJob, JobQueue } from './job-queue.js';
import { DEFAULT_LEASE_MS } from './job-queue.js';
import type { Scheduler } from './scheduler.js';

export type JobHandler = (job: ClaimedJob) => Promise<void>;

export interface WorkerOptions {
  id: string;
  handlers: Record<string, JobHandler>;
  leaseMs?: number;
  idlePollMs?: number;
  scheduler?: Scheduler;
  /** Called for failures of the loop itself (e.g. the database is down); the loop keeps going. */
  onLoopError?: (err: unknown) => void;
}

export class Worker {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  /** Set when new work was announced since the last claim (no sleep before looking again). */
  private poked = false;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly queue: JobQueue,
    private readonly opts: WorkerOptions,
  ) {}

  /** Claims and runs one job; returns false when nothing was due. */
  async runOnce(): Promise<boolean> {
    const lease = this.opts.leaseMs ?? DEFAULT_LEASE_MS;
    const job = await this.queue.claim(this.opts.id, lease, Object.keys(this.opts.handlers));
    if (!job) return false;
    const handler = this.opts.handlers[job.kind]!;
    const renew = setInterval(() => void this.queue.extend(job, this.opts.id, lease).catch(() => {}), Math.max(1000, lease / 3));
    try {
      await handler(job);
      clearInterval(renew);
      await this.queue.complete(job, this.opts.id);
    } catch (err) {
      clearInterval(renew);
      await this.queue.fail(job, this.opts.id, err);
    }
    return true;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe = this.queue.subscribe(() => {
      this.poked = true;
      this.wake?.();
    });
    this.loop = (async () => {
      while (this.running) {
        let worked = false;
        try {
          if (this.opts.scheduler) await this.opts.scheduler.tick();
          this.poked = false;
          worked = await this.runOnce();
        } catch (err) {
          this.opts.onLoopError?.(err);
        }
        if (!worked && this.running && !this.poked) {
          await new Promise<void>((resolve) => {
            const t = setTimeout(resolve, this.opts.idlePollMs ?? 1000);
            this.wake = () => {
              clearTimeout(t);
              resolve();
            };
          });
        }
      }
    })();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.unsubscribe?.();
    this.wake?.();
    await this.loop;
  }
}
