/**
 * Benchmarks (`npm run bench`): each figure is reported with a ceiling measured in the same run on
 * the same machine, and their ratio; absolute numbers on a 2-core machine are noisy, ratios less so.
 * Never part of `npm test`.
 *
 *   audit.append   committed audit appends per second (one transaction each, synchronous=FULL)
 *                  ÷ committed raw inserts of a row of the same size through better-sqlite3
 *   audit.verify   events verified per second by `kura audit verify`'s verifier
 *                  ÷ SHA-256 of the same canonical entries (the work that cannot be avoided)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import { openKura, writeDefaultConfig } from '../src/app/bootstrap.js';
import { canonicalEntry, leafHash } from '../src/audit/chain.js';
import { loadConfig } from '../src/config/load-config.js';
import { systemActor } from '../src/core/types.js';

const N = Number(process.env.BENCH_EVENTS ?? 3000);
const results: Array<Record<string, unknown>> = [];

function perSecond(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kura-bench-'));
  try {
    const env = { KURA_CONFIG: join(dir, 'kura.yaml'), KURA_DATA_DIR: join(dir, 'data'), KURA_LOG_LEVEL: 'silent' };
    writeDefaultConfig(env, dir, { region: 'bench', facility: 'bench' });
    const { services } = await openKura(loadConfig(env, dir), { create: true, logger: pino({ level: 'silent' }) });
    const t = await services.tenants.create(systemActor(), { slug: 'bench-city', displayName: 'ベンチ市' });
    const actor = { ...systemActor(t.id), ip: '192.0.2.10', zone: 'lgwan' as const, userAgent: 'bench', requestId: 'r' };

    // Ceiling: raw committed inserts of a same-sized row, same pragmas, no Kysely, no hashing.
    const raw = new BetterSqlite3(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.exec('create table t (k integer primary key, v text not null)');
    const ins = raw.prepare('insert into t (v) values (?)');
    const row = 'x'.repeat(600);
    let t0 = performance.now();
    for (let i = 0; i < N; i++) raw.transaction(() => ins.run(row))();
    const rawRate = perSecond(N, performance.now() - t0);
    raw.close();

    t0 = performance.now();
    for (let i = 0; i < N; i++) {
      await services.database.transaction((trx) =>
        services.audit.append(trx, actor, {
          action: 'bench.event',
          target: { type: 'file', id: String(i) },
          details: { i, note: '日本語の説明' },
        }),
      );
    }
    const appendRate = perSecond(N, performance.now() - t0);
    results.push({
      bench: 'audit.append',
      events: N,
      perSecond: appendRate,
      ceiling: rawRate,
      ratio: +(appendRate / rawRate).toFixed(3),
    });

    await services.checkpoints.checkpointTenant(t.id);
    t0 = performance.now();
    const r = await services.auditVerify.verifyTenant(t.id);
    const verifyRate = perSecond(r.events, performance.now() - t0);
    if (!r.ok) throw new Error(`verify failed: ${r.problems.join('; ')}`);

    const entries = [];
    for await (const e of services.auditRepository.events(t.id))
      entries.push(canonicalEntry({ ...e, details: JSON.parse(e.details) }));
    t0 = performance.now();
    for (const e of entries) leafHash(e);
    const hashRate = perSecond(entries.length, performance.now() - t0);
    results.push({
      bench: 'audit.verify',
      events: r.events,
      perSecond: verifyRate,
      ceiling: hashRate,
      ratio: +(verifyRate / hashRate).toFixed(3),
    });
    await services.database.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const r of results) console.log(JSON.stringify(r));
}

await main();
