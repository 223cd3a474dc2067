import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRepository } from '../../src/audit/audit.repository.js';
import { AuditVerifyService, fromRow } from '../../src/audit/audit-verify.service.js';
import {
  checkpointSigningInput,
  entryHash,
  entryMac,
  frontierRoot,
  type ChainEntry,
  type SignedCheckpoint,
} from '../../src/audit/chain.js';
import { CheckpointService, type CheckpointServiceDeps } from '../../src/audit/checkpoint.service.js';
import { parseFrontier } from '../../src/audit/audit-log.js';
import { generateSigningKeyPem, loadSigningKey } from '../../src/crypto/signing.js';
import { SYSTEM_TENANT_ID, systemActor, type TenantId } from '../../src/core/types.js';
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

/** A checkpoint service over the test instance's database, store and key, with the alarm events wired. */
function checkpointer(over: Partial<CheckpointServiceDeps> = {}): CheckpointService {
  const s = k.services;
  return new CheckpointService({
    database: s.database,
    audit: s.auditRepository,
    store: s.checkpointStore,
    signing: s.serviceKeys.signing,
    clock: s.clock,
    tenantIds: () => s.tenantRepository.ids(),
    events: s.audit,
    ...over,
  });
}

/** The next checkpoint of a tenant, signed with `sign` (the service key unless given), with `change` applied before signing. */
async function nextCheckpoint(
  tenantId: string,
  change: Partial<SignedCheckpoint> = {},
  sign = k.services.serviceKeys.signing.sign,
): Promise<SignedCheckpoint> {
  const s = k.services;
  const head = (await s.auditRepository.head(tenantId))!;
  const last = await s.auditRepository.lastCheckpoint(tenantId);
  const body = {
    v: 1,
    tenantId,
    no: Number(last?.no ?? 0) + 1,
    size: head.seq,
    rootHash: frontierRoot(parseFrontier(head.frontier)).toString('hex'),
    checkpointedAt: new Date().toISOString(),
    keyId: s.serviceKeys.signing.keyId,
    ...change,
  };
  return { ...body, signature: sign(checkpointSigningInput(body)) };
}

const appendOne = (tenantId: TenantId) =>
  k.services.database.transaction((trx) => k.services.audit.append(trx, systemActor(tenantId), { action: 'test.later' }));

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

  it('verifies a live chain: entries and a checkpoint written while the check runs are not tampering [LOG-02]', async () => {
    const { tenantId } = await tenantWithEvents(4, 2);
    const s = k.services;
    const repo = s.auditRepository;
    // A checkpoint is being written (store now, database 300 ms later) just after the check read the
    // database's, and entries are appended while it reads the chain.
    let inFlight: Promise<unknown> = Promise.resolve();
    let started = false;
    const busy = Object.assign(Object.create(repo) as AuditRepository, {
      checkpoints: async (id: string) => {
        const rows = await repo.checkpoints(id);
        if (started) return rows; // the check reads them again: the database has it by then
        started = true;
        let stored!: () => void;
        const written = new Promise<void>((r) => (stored = r));
        const slow = Object.assign(Object.create(repo) as AuditRepository, {
          insertCheckpoint: async (...args: Parameters<AuditRepository['insertCheckpoint']>) => {
            stored();
            await new Promise((r) => setTimeout(r, 300));
            return repo.insertCheckpoint(...args);
          },
        });
        inFlight = checkpointer({ audit: slow }).checkpointTenant(id);
        await written;
        return rows;
      },
      events: async function* (id: string) {
        let first = true;
        for await (const row of repo.events(id)) {
          yield row;
          if (first) {
            first = false;
            await appendOne(id as TenantId);
            await appendOne(id as TenantId);
          }
        }
      },
    });
    const live = new AuditVerifyService({
      audit: busy,
      store: s.checkpointStore,
      macKey: s.serviceKeys.auditMacKey,
      publicKeys: () => Promise.resolve([]),
    });
    const r = await live.verifyTenant(tenantId);
    await inFlight;
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.events).toBeGreaterThanOrEqual(5);
    // Afterwards the whole chain, with what was appended, is verified as usual.
    expect(await verify(tenantId)).toMatchObject({ ok: true, events: 7 });
  });

  it('reports an unreadable checkpoint file as that tenant’s failure, naming it, without stopping the others [LOG-02]', async () => {
    const { tenantId } = await tenantWithEvents(2, 2);
    const other = await tenantWithEvents(1, 1);
    const path = join(k.services.config.paths.checkpoints, tenantId, `${String(1).padStart(12, '0')}.json`);
    const original = readFileSync(path, 'utf8');
    // The file is write-once (0400); a disk error or an intruder garbles it all the same.
    chmodSync(path, 0o600);
    writeFileSync(path, original.slice(0, 40));
    try {
      const r = await verify(tenantId);
      expect(r.ok).toBe(false);
      expect(r.problems.join('\n')).toContain(`checkpoint file ${tenantId}/000000000001.json is unreadable`);
      expect((await verify(other.tenantId)).ok).toBe(true);
    } finally {
      writeFileSync(path, original);
    }
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

  it('adopts a checkpoint a crash left in the store without its database row, and carries on [LOG-02]', async () => {
    const { tenantId } = await tenantWithEvents(3, 2);
    // The store write succeeds, the database insert fails (SQLITE_BUSY, or the process dies here).
    const busy = Object.assign(Object.create(k.services.auditRepository) as AuditRepository, {
      insertCheckpoint: () =>
        Promise.reject(Object.assign(new Error('SQLITE_BUSY: database is locked'), { code: 'SQLITE_BUSY' })),
    });
    await expect(checkpointer({ audit: busy }).checkpointTenant(tenantId)).rejects.toThrow(/SQLITE_BUSY/);
    const orphan = (await k.services.checkpointStore.list(tenantId)).at(-1)!;
    expect(orphan).toMatchObject({ no: 2, size: 4 });
    await appendOne(tenantId); // the chain moves on before the next run

    const next = await k.services.checkpoints.checkpointTenant(tenantId);
    expect(next).toMatchObject({ no: 3, size: 5 });
    const rows = await k.services.auditRepository.checkpoints(tenantId);
    expect(rows.map((r) => [Number(r.no), Number(r.size)])).toEqual([
      [1, 2],
      [2, 4],
      [3, 5],
    ]);
    expect(fromRow(rows[1]!)).toEqual(orphan);
    const r = await verify(tenantId);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('rejects, with an alarm event, a stored checkpoint under the next number that the chain or the key does not back [LOG-02, LOG-01]', async () => {
    const s = k.services;
    const foreign = loadSigningKey(generateSigningKeyPem().privateKeyPem);
    const cases: Array<[RegExp, (tenantId: string) => Promise<SignedCheckpoint>]> = [
      // Signed by the service key, but over another chain (the database was rewritten since).
      [/Merkle root/, (t) => nextCheckpoint(t, { rootHash: 'ab'.repeat(32) })],
      [/covers 99 entries but the chain has 3/, (t) => nextCheckpoint(t, { size: 99 })],
      // The right root, but not signed by the service key (forged by someone with store access).
      [/invalid signature/, (t) => nextCheckpoint(t, {}, foreign.sign)],
      [/names another tenant/, async (t) => ({ ...(await nextCheckpoint(t)), tenantId: SYSTEM_TENANT_ID })],
    ];
    for (const [problem, make] of cases) {
      const name = problem.source;
      const { tenantId } = await tenantWithEvents(2, 3);
      const planted = await make(tenantId);
      const path = join(s.config.paths.checkpoints, tenantId, `${String(planted.no).padStart(12, '0')}.json`);
      writeFileSync(path, `${JSON.stringify(planted)}\n`, { flag: 'wx' });
      const cps = checkpointer();
      await expect(cps.checkpointTenant(tenantId), name).rejects.toMatchObject({ code: 'audit.chain_broken' });
      await expect(cps.checkpointTenant(tenantId), name).rejects.toMatchObject({ code: 'audit.chain_broken' });
      expect((await s.auditRepository.checkpoints(tenantId)).length, name).toBe(1);
      expect(JSON.parse(readFileSync(path, 'utf8')), name).toEqual(planted);
      const alarms = (await s.auditRepository.latestEvents(tenantId, 10)).filter((e) => e.action === 'audit.checkpoint_rejected');
      expect(alarms.length, name).toBe(1); // one alarm, not one per run
      expect(alarms[0], name).toMatchObject({ outcome: 'error', reason: 'audit.chain_broken' });
      expect(JSON.parse(alarms[0]!.details), name).toMatchObject({ no: 2, problem: expect.stringMatching(problem) });
      expect((await verify(tenantId)).ok, name).toBe(false);
    }
  });

  it('checkpoints the other tenants when one tenant fails, and still fails the run [LOG-02]', async () => {
    const a = await tenantWithEvents(1, 0);
    const b = await tenantWithEvents(1, 0);
    await k.services.checkpointStore.write(await nextCheckpoint(a.tenantId, { rootHash: 'cd'.repeat(32) }));
    const cps = checkpointer({ tenantIds: async () => [a.tenantId, b.tenantId] });
    await expect(cps.checkpointAll()).rejects.toThrow(a.tenantId);
    expect((await k.services.auditRepository.checkpoints(b.tenantId)).map((r) => Number(r.size))).toEqual([2]);
    expect((await k.services.auditRepository.checkpoints(a.tenantId)).length).toBe(0);
  });
});
