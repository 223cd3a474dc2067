import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryHash, entryMac, type ChainEntry } from '../../src/audit/chain.js';
import { systemActor, type TenantId } from '../../src/core/types.js';
import { createTestKura, tamper, type TestKura } from '../support/kura.js';

let k: TestKura;
let counter = 0;

beforeAll(async () => {
  k = await createTestKura();
});
afterAll(async () => {
  await k?.close();
});

/** A fresh tenant with `n` events after its creation event, checkpointed once after `cpAt` events in total. */
async function tenantWithEvents(n: number, cpAt: number): Promise<{ tenantId: TenantId; total: number; cpSize: number }> {
  const s = k.services;
  const t = await s.tenants.create(systemActor(), { slug: `t-${process.pid}-${++counter}`, displayName: `テスト市${counter}` });
  const total = n + 1; // tenant.created is the first entry
  let cpSize = 0;
  for (let i = 1; i <= total; i++) {
    if (i > 1) {
      await s.database.transaction((trx) =>
        s.audit.append(
          trx,
          { ...systemActor(t.id), ip: '192.0.2.1', zone: 'lgwan' },
          { action: 'test.happened', details: { i, text: '日本語' } },
        ),
      );
    }
    if (i === cpAt) cpSize = (await s.checkpoints.checkpointTenant(t.id)).size;
  }
  return { tenantId: t.id, total, cpSize };
}

const verify = (tenantId: string) => k.services.auditVerify.verifyTenant(tenantId);

describe(`audit chain on ${process.env.KURA_TEST_DB ?? 'sqlite'}`, () => {
  it('verifies an untouched chain with checkpoints, including empty (idle) checkpoints [LOG-02]', async () => {
    const { tenantId, total } = await tenantWithEvents(5, 3);
    await k.services.checkpoints.checkpointTenant(tenantId);
    await k.services.checkpoints.checkpointTenant(tenantId); // idle period: same size again
    const r = await verify(tenantId);
    expect(r.problems).toEqual([]);
    expect(r).toMatchObject({ ok: true, events: total, checkpoints: 3, lastCheckpointSize: total, firstBadSeq: null });
  });

  it('keeps seq gapless per tenant under concurrent appends [LOG-02]', async () => {
    const { tenantId } = await tenantWithEvents(0, 0);
    const s = k.services;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.database.transaction((trx) =>
          s.audit.append(trx, systemActor(tenantId), { action: 'test.concurrent', details: { i } }),
        ),
      ),
    );
    const r = await verify(tenantId);
    expect(r.ok).toBe(true);
    expect(r.events).toBe(21);
  });

  it('records oversized details by digest instead of failing the change [LOG-01]', async () => {
    const { tenantId } = await tenantWithEvents(0, 0);
    const s = k.services;
    await s.database.transaction((trx) =>
      s.audit.append(trx, systemActor(tenantId), { action: 'test.big', details: { text: '長'.repeat(20_000), n: 1 } }),
    );
    const [e] = await s.auditRepository.latestEvents(tenantId, 1);
    expect(JSON.parse(e!.details)).toMatchObject({ oversized: true, bytes: 60_017, keys: ['text', 'n'] });
    expect((await verify(tenantId)).ok).toBe(true);
  });

  it('rolls the event back with the transaction it belongs to [LOG-01]', async () => {
    const { tenantId, total } = await tenantWithEvents(1, 0);
    const s = k.services;
    await expect(
      s.database.transaction(async (trx) => {
        await s.audit.append(trx, systemActor(tenantId), { action: 'test.rolled_back' });
        throw new Error('business rule failed');
      }),
    ).rejects.toThrow('business rule failed');
    expect((await verify(tenantId)).events).toBe(total);
  });

  it('refuses UPDATE and DELETE of audit rows by the application [LOG-02]', async () => {
    const { tenantId } = await tenantWithEvents(1, 0);
    const db = k.services.database.db;
    const denied = k.engine === 'postgres' ? /permission denied|append-only/ : /append-only/;
    await expect(db.updateTable('audit_events').set({ action: 'x' }).where('tenant_id', '=', tenantId).execute()).rejects.toThrow(
      denied,
    );
    await expect(db.deleteFrom('audit_events').where('tenant_id', '=', tenantId).execute()).rejects.toThrow(denied);
    await expect(db.deleteFrom('audit_checkpoints').execute()).rejects.toThrow(denied);
    expect((await verify(tenantId)).ok).toBe(true);
  });

  it.runIf(process.env.KURA_TEST_DB === 'postgres')(
    'denies the app role UPDATE by privilege even without the trigger [LOG-02]',
    async () => {
      const raw = await k.raw();
      try {
        const rows = await raw.exec(
          `select has_table_privilege('kura_app', '${k.schema}.audit_events', 'UPDATE') as upd, has_table_privilege('kura_app', '${k.schema}.audit_events', 'DELETE') as del, has_table_privilege('kura_app', '${k.schema}.audit_events', 'INSERT') as ins`,
        );
        expect(rows[0]).toEqual({ upd: false, del: false, ins: true });
      } finally {
        await raw.close();
      }
    },
  );

  type Op =
    | { kind: 'edit'; seq: number }
    | { kind: 'delete'; seq: number }
    | { kind: 'swap'; a: number; b: number }
    | { kind: 'insert'; at: number }
    | { kind: 'truncate'; from: number }
    | { kind: 'rewrite'; from: number; withMac: boolean };

  async function apply(tenantId: string, op: Op): Promise<void> {
    const T = `tenant_id = $1`;
    switch (op.kind) {
      case 'edit':
        return tamper(k, `update audit_events set details = '{"i":999}' where ${T} and seq = $2`, [tenantId, op.seq]);
      case 'delete':
        return tamper(k, `delete from audit_events where ${T} and seq = $2`, [tenantId, op.seq]);
      case 'swap':
        await tamper(k, `update audit_events set seq = -1 where ${T} and seq = $2`, [tenantId, op.a]);
        await tamper(k, `update audit_events set seq = $2 where ${T} and seq = $3`, [tenantId, op.a, op.b]);
        return tamper(k, `update audit_events set seq = $2 where ${T} and seq = -1`, [tenantId, op.b]);
      case 'insert':
        await tamper(k, `update audit_events set seq = seq + 1000000 where ${T} and seq >= $2`, [tenantId, op.at]);
        await tamper(k, `update audit_events set seq = seq - 999999 where ${T} and seq >= 1000000`, [tenantId]);
        return tamper(
          k,
          `insert into audit_events select tenant_id, $2, occurred_at, actor_type, actor_id, ip, zone, user_agent, request_id, 'forged.event', target_type, target_id, outcome, reason, details, prev_hash, entry_hash, entry_mac from audit_events where ${T} and seq = $3`,
          [tenantId, op.at, op.at - 1],
        );
      case 'truncate':
        return tamper(k, `delete from audit_events where ${T} and seq >= $2`, [tenantId, op.from]);
      case 'rewrite': {
        // A consistent rewrite: edit one entry and recompute every later hash and link, and the head.
        const rows = [];
        for await (const r of k.services.auditRepository.events(tenantId)) rows.push(r);
        let prev = rows[op.from - 2]?.entry_hash ?? '0'.repeat(64);
        for (const row of rows.slice(op.from - 1)) {
          const entry: ChainEntry = { ...row, seq: Number(row.seq), details: JSON.parse(row.details), prev_hash: prev };
          if (entry.seq === op.from) entry.action = 'rewritten.event';
          const hash = entryHash(entry);
          const mac = op.withMac ? entryMac(k.services.serviceKeys.auditMacKey, hash) : row.entry_mac;
          await tamper(
            k,
            `update audit_events set action = $3, prev_hash = $4, entry_hash = $5, entry_mac = $6 where ${T} and seq = $2`,
            [tenantId, entry.seq, entry.action, prev, hash, mac],
          );
          prev = hash;
        }
        return tamper(k, `update audit_heads set entry_hash = $2 where ${T}`, [tenantId, prev]);
      }
    }
  }

  /** The lowest seq the tamper touched: the verifier must name it or an earlier one. */
  function firstTouched(op: Op): number {
    switch (op.kind) {
      case 'edit':
      case 'delete':
        return op.seq;
      case 'swap':
        return Math.min(op.a, op.b);
      case 'insert':
        return op.at;
      case 'truncate':
      case 'rewrite':
        return op.from;
    }
  }

  it('detects any single edit, deletion, insertion, swap, truncation or consistent rewrite done in SQL [LOG-02]', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 9 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            cpAt: fc.integer({ min: 1, max: n + 1 }),
            op: fc.oneof(
              fc.integer({ min: 1, max: n + 1 }).map((seq): Op => ({ kind: 'edit', seq })),
              fc.integer({ min: 1, max: n + 1 }).map((seq): Op => ({ kind: 'delete', seq })),
              fc
                .tuple(fc.integer({ min: 1, max: n + 1 }), fc.integer({ min: 1, max: n + 1 }))
                .filter(([a, b]) => a !== b)
                .map(([a, b]): Op => ({ kind: 'swap', a, b })),
              fc.integer({ min: 2, max: n + 1 }).map((at): Op => ({ kind: 'insert', at })),
              fc.integer({ min: 1, max: n + 1 }).map((from): Op => ({ kind: 'truncate', from })),
              fc.integer({ min: 1, max: n + 1 }).map((from): Op => ({ kind: 'rewrite', from, withMac: false })),
            ),
          }),
        ),
        async ({ n, cpAt, op }) => {
          const { tenantId } = await tenantWithEvents(n, cpAt);
          expect((await verify(tenantId)).ok).toBe(true);
          await apply(tenantId, op);
          const r = await verify(tenantId);
          expect(r.ok, `${JSON.stringify(op)} went undetected`).toBe(false);
          expect(r.firstBadSeq).not.toBeNull();
          expect(r.firstBadSeq!).toBeLessThanOrEqual(firstTouched(op));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('detects a consistent rewrite with valid seals that a checkpoint covers [LOG-02]', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 8 }).chain((n) => fc.record({ n: fc.constant(n), from: fc.integer({ min: 1, max: n + 1 }) })),
        async ({ n, from }) => {
          const { tenantId } = await tenantWithEvents(n, n + 1); // checkpoint covers the whole chain
          await apply(tenantId, { kind: 'rewrite', from, withMac: true });
          const r = await verify(tenantId);
          expect(r.ok).toBe(false);
          expect(r.problems.join('\n')).toMatch(/Merkle root/);
          expect(r.firstBadSeq!).toBeLessThanOrEqual(from);
        },
      ),
      { numRuns: 10 },
    );
  });

  it('detects a checkpoint removed from the database or forged in the checkpoint store [LOG-02]', async () => {
    const a = await tenantWithEvents(2, 2);
    await tamper(k, `delete from audit_checkpoints where tenant_id = $1`, [a.tenantId]);
    expect((await verify(a.tenantId)).problems.join('\n')).toMatch(/missing from the database/);

    const b = await tenantWithEvents(2, 3);
    await tamper(k, `update audit_checkpoints set signature = $2 where tenant_id = $1`, [
      b.tenantId,
      Buffer.alloc(64, 1).toString('base64'),
    ]);
    const r = await verify(b.tenantId);
    expect(r.ok).toBe(false);
    expect(r.problems.join('\n')).toMatch(/differs between the database and the checkpoint store/);
  });

  it('keeps tenants apart: one tenant’s chain never includes another’s events [AC-08]', async () => {
    const a = await tenantWithEvents(2, 0);
    const b = await tenantWithEvents(3, 0);
    expect((await verify(a.tenantId)).events).toBe(3);
    expect((await verify(b.tenantId)).events).toBe(4);
    // An attacker moves one of a's events into b's log: both chains report it.
    await tamper(k, `update audit_events set tenant_id = $2, seq = 100 where tenant_id = $1 and seq = 2`, [
      a.tenantId,
      b.tenantId,
    ]);
    expect(await verify(a.tenantId)).toMatchObject({ ok: false, firstBadSeq: 2 });
    expect(await verify(b.tenantId)).toMatchObject({ ok: false, firstBadSeq: 5 });
  });
});
