import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Services } from '../../src/app/services.js';
import { ManualClock } from '../../src/core/clock.js';
import { SYSTEM_TENANT_ID } from '../../src/core/types.js';
import { backoffMs, RETRY_BASE_MS } from '../../src/jobs/job-queue.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { Worker } from '../../src/jobs/worker.js';
import { createTestKura, secondNode, type TestKura } from '../support/kura.js';

let k: TestKura;
let other: Services;
const clock = new ManualClock(new Date());

beforeAll(async () => {
  k = await createTestKura({ clock });
  other = await secondNode(k, clock);
});
afterAll(async () => {
  await other?.database.close();
  await k?.close();
});

const kind = (name: string) => `test.${name}.${Math.random().toString(36).slice(2, 8)}`;

describe(`jobs on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('runs every job exactly once with two workers on two connections racing', async () => {
    const K = kind('race');
    const ids = new Set<string>();
    for (let i = 0; i < 40; i++) ids.add((await k.services.jobs.enqueue({ kind: K, payload: { i } }))!);
    const runs: Array<{ worker: string; id: string }> = [];
    const handler = (worker: string) => async (job: { id: string }) => {
      runs.push({ worker, id: job.id });
      await new Promise((r) => setTimeout(r, 2));
    };
    const a = new Worker(k.services.jobs, { id: 'a', handlers: { [K]: handler('a') } });
    const b = new Worker(other.jobs, { id: 'b', handlers: { [K]: handler('b') } });
    const drain = async (w: Worker) => {
      while (await w.runOnce());
    };
    await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
    expect(runs.map((r) => r.id).sort()).toEqual([...ids].sort());
    expect(new Set(runs.map((r) => r.worker)).size).toBe(2); // both took part
    for (const id of ids) expect((await k.services.jobs.get(id))?.state).toBe('done');
  });

  it('runs a job again after its worker process was killed mid-job (lease expiry)', async () => {
    const K = kind('killed');
    const id = (await k.services.jobs.enqueue({ kind: K, runAt: new Date(0) }))!;
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/claim-and-die.ts'], {
      cwd: root,
      env: { ...process.env, ...k.env, LEASE_MS: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const claimed = await new Promise<string>((resolve, reject) => {
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /claimed (\S+)/.exec(out);
        if (m) resolve(m[1]!);
      });
      child.stderr.on('data', (d) => (err += d));
      child.on('exit', (code) => reject(new Error(`child exited ${code}: ${err}`)));
    });
    expect(claimed).toBe(id);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const ran: string[] = [];
    const w = new Worker(k.services.jobs, { id: 'survivor', handlers: { [K]: async (j) => void ran.push(j.id) } });
    // Still leased (the real clock has not moved a second): nobody may take it yet.
    clock.set(new Date());
    expect(await w.runOnce()).toBe(false);
    clock.advance(1500);
    expect(await w.runOnce()).toBe(true);
    expect(ran).toEqual([id]);
    expect(await k.services.jobs.get(id)).toMatchObject({ state: 'done', attempts: 2 });
  });

  it('lets only the current lease holder complete a job', async () => {
    const K = kind('lease');
    const id = (await k.services.jobs.enqueue({ kind: K, runAt: new Date(0) }))!;
    const first = (await k.services.jobs.claim('first', 1000, [K]))!;
    clock.advance(2000);
    const second = (await other.jobs.claim('second', 1000, [K]))!;
    expect(second.id).toBe(id);
    expect(await k.services.jobs.complete(first, 'first')).toBe(false);
    expect(await other.jobs.complete(second, 'second')).toBe(true);
  });

  it('retries with backoff, then fails with a fault event in the audit log [LOG-01]', async () => {
    const K = kind('flaky');
    const id = (await k.services.jobs.enqueue({ kind: K, maxAttempts: 2, runAt: new Date(0) }))!;
    const w = new Worker(k.services.jobs, {
      id: 'w',
      handlers: {
        [K]: async () => {
          throw new Error('upstream refused');
        },
      },
    });
    expect(await w.runOnce()).toBe(true);
    const afterFirst = (await k.services.jobs.get(id))!;
    expect(afterFirst).toMatchObject({ state: 'queued', attempts: 1, last_error: 'Error: upstream refused' });
    const delay = Date.parse(afterFirst.run_at) - clock.now().getTime();
    expect(delay).toBeGreaterThanOrEqual(RETRY_BASE_MS * 0.8);
    expect(await w.runOnce()).toBe(false); // not due yet
    clock.advance(delay);
    expect(await w.runOnce()).toBe(true);
    expect(await k.services.jobs.get(id)).toMatchObject({ state: 'failed', attempts: 2 });
    const [last] = await k.services.auditRepository.latestEvents(SYSTEM_TENANT_ID, 1);
    expect(last).toMatchObject({ action: 'job.failed', target_id: id, outcome: 'error', reason: 'job.retry_budget_exhausted' });
    expect((await k.services.auditVerify.verifyTenant(SYSTEM_TENANT_ID)).ok).toBe(true);
  });

  it('grows the backoff exponentially up to its cap', () => {
    const mid = () => 0.5;
    expect(backoffMs(1, mid)).toBe(RETRY_BASE_MS);
    expect(backoffMs(3, mid)).toBe(RETRY_BASE_MS * 4);
    expect(backoffMs(50, mid)).toBe(60 * 60 * 1000);
  });

  it('enqueues a periodic job once per period across nodes, collapsing missed periods', async () => {
    const K = kind('periodic');
    const name = `sched-${K}`;
    const s1 = new Scheduler(k.services.database, k.services.jobs, clock);
    const s2 = new Scheduler(other.database, other.jobs, clock);
    await s1.ensure({ name, kind: K, intervalMs: 300_000 });
    await s2.ensure({ name, kind: K, intervalMs: 300_000 });
    const count = async () =>
      Number(
        (await k.services.database.db
          .selectFrom('jobs')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('kind', '=', K)
          .executeTakeFirst())!.n,
      );
    await Promise.all([s1.tick(), s2.tick(), s1.tick(), s2.tick()]);
    expect(await count()).toBe(1);
    clock.advance(299_000);
    await Promise.all([s1.tick(), s2.tick()]);
    expect(await count()).toBe(1);
    clock.advance(2_000);
    await Promise.all([s1.tick(), s2.tick()]);
    expect(await count()).toBe(2);
    clock.advance(300_000 * 5); // node down for five periods: one catch-up run, not five
    await Promise.all([s1.tick(), s2.tick()]);
    await Promise.all([s1.tick(), s2.tick()]);
    expect(await count()).toBe(3);
  });

  it('writes audit checkpoints from the scheduled job, also when idle [LOG-02]', async () => {
    const before = (await k.services.auditRepository.checkpoints(SYSTEM_TENANT_ID)).length;
    await k.services.jobs.enqueue({ kind: 'audit.checkpoint', runAt: new Date(0) });
    const w = new Worker(k.services.jobs, {
      id: 'cp',
      handlers: { 'audit.checkpoint': k.services.jobHandlers['audit.checkpoint']! },
    });
    expect(await w.runOnce()).toBe(true);
    await k.services.jobs.enqueue({ kind: 'audit.checkpoint', runAt: new Date(0) });
    expect(await w.runOnce()).toBe(true);
    const cps = await k.services.auditRepository.checkpoints(SYSTEM_TENANT_ID);
    expect(cps.length).toBe(before + 2);
    expect(cps.at(-1)!.size).toBe(cps.at(-2)!.size);
    expect((await k.services.checkpointStore.list(SYSTEM_TENANT_ID)).length).toBe(cps.length);
  });
});
