/**
 * Benchmarks (`npm run bench`): each figure is reported with a ceiling measured in the same run on
 * the same machine, and their ratio; absolute numbers on a 2-core machine are noisy, ratios less so.
 * Never part of `npm test`.
 *
 *   audit.append   committed audit appends per second (one transaction each, synchronous=FULL)
 *                  ÷ committed raw inserts of a row of the same size through better-sqlite3
 *   audit.verify   events verified per second by `kura audit verify`'s verifier
 *                  ÷ SHA-256 of the same canonical entries (the work that cannot be avoided)
 *   auth.login     password logins per second through the HTTP route (Argon2id m=19 MiB t=2)
 *                  ÷ bare Argon2id verifications per second with the same parameters
 *   auth.me        authenticated GET /api/v1/me per second (session lookup, user, tenant policy)
 *                  ÷ GET /healthz per second, both through the same Fastify app in one run
 *   auth.sessions  heap and database bytes per 10,000 active sessions (sessions live in the database)
 *   blob.encrypt / blob.decrypt
 *                  MiB/s of the streaming blob format over 256 MiB of random data (header, HKDF,
 *                  per-segment AES-256-GCM, chunk handling) ÷ bare AES-256-GCM over the same bytes
 *                  in 64 KiB calls, and the process's peak RSS growth while streaming
 *   files.*        downloads and uploads through a real `kura serve` ÷ nginx serving the same file over
 *                  HTTPS, peak server RSS with 2 GiB files and 20 concurrent uploads, and time to
 *                  `available` ÷ clamd's own INSTREAM time (bench/files.ts; it starts nginx, clamd and
 *                  the server itself and writes .bench-output/files.json; needs bench/prereqs.sh)
 *   malware.scan   Kura's scan stage (decrypt the stored blob → clamd INSTREAM) MB/s on a 100 MiB random
 *                  file ÷ clamd's own INSTREAM of the plaintext, medians of 3 interleaved runs   ≥ 0.9
 *   malware.sanitize.docx / malware.sanitize.pdf
 *                  無害化 MB/s of input for a ~20 MiB docx and PDF, vault → engine → vault as the stage
 *                  runs it ÷ the same blob copied through the vault (decrypt + encrypt)            info
 *   malware.rss.zipbomb
 *                  peak RSS of a fresh child process running the OOXML engine over three zip bombs
 *                  (nested 42.zip-style, one 1 GiB entry, many entries just under the ratio limit up
 *                  to the 1 GiB total), with whether each was refused or rebuilt and its time   < 300 MB
 *                  (bench/malware.ts; in process, with a clamd of its own; writes .bench-output/malware.json)
 *
 * BENCH_ONLY=files or BENCH_ONLY=malware runs only that benchmark; BENCH_FILES=off and
 * BENCH_MALWARE=off skip them. The malware benchmark runs after the in-process ones, before files.
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
import { createUserWithLink } from '../src/app/bootstrap.js';
import { hashPassword, verifyPassword } from '../src/crypto/password-hash.js';
import { buildServer } from '../src/http/server.js';
import { sql } from 'kysely';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ciphertextSize, createDecryptStream, createEncryptStream } from '../src/crypto/blob-cipher.js';
import { aesGcmEncrypt, randomBytes } from '../src/crypto/primitives.js';
import { runFilesBench } from './files.js';
import { runMalwareBench } from './malware.js';

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
    await benchAuth(services);
    await benchBlobCipher();
    await services.database.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const r of results) console.log(JSON.stringify(r));
}

async function benchAuth(services: Awaited<ReturnType<typeof openKura>>['services']): Promise<void> {
  const t = await services.tenants.create(systemActor(), { slug: 'bench-auth', displayName: '認証ベンチ市' });
  const settings = await services.tenantPolicy.get(t.id);
  await services.tenantPolicy.update(systemActor(t.id), { ...settings, mfa: { ...settings.mfa, requiredForAll: false } });
  const link = await createUserWithLink(services, t.id, { loginId: 'bench', displayName: 'ベンチ', role: 'staff' }, 'bench');
  // The per-address rate limit would stop a single-client benchmark; it is not what is measured here.
  const unlimited = {
    ...services,
    config: { ...services.config, limits: { ...services.config.limits, requestsPerMinute: 1_000_000 } },
  };
  const app = await buildServer(unlimited, { zone: 'lgwan', webUi: false });
  await app.ready();
  const password = 'granite-violet-harbor';
  const token = new URL(link).hash.replace('#token=', '');
  const setup = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/setup/complete',
    payload: { token, password, confirmPassword: password },
  });
  if (setup.statusCode !== 200) throw new Error(`setup failed: ${setup.body}`);
  const cookie = String(setup.headers['set-cookie']).split(';')[0]!;

  const L = Number(process.env.BENCH_LOGINS ?? 40);
  const stored = await hashPassword(password);
  let t0 = performance.now();
  for (let i = 0; i < L; i++) await verifyPassword(stored, password);
  const argonRate = (L / (performance.now() - t0)) * 1000;
  t0 = performance.now();
  for (let i = 0; i < L; i++) {
    const r = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: 'bench-auth', login: 'bench', password },
    });
    if (r.statusCode !== 200) throw new Error(`login failed: ${r.body}`);
  }
  const loginRate = (L / (performance.now() - t0)) * 1000;
  results.push({
    bench: 'auth.login',
    logins: L,
    perSecond: +loginRate.toFixed(1),
    ceiling: +argonRate.toFixed(1),
    ratio: +(loginRate / argonRate).toFixed(3),
  });

  const M = Number(process.env.BENCH_REQUESTS ?? 3000);
  const rate = async (url: string, headers: Record<string, string> = {}) => {
    const start = performance.now();
    for (let i = 0; i < M; i++) {
      const r = await app.inject({ url, headers });
      if (r.statusCode !== 200) throw new Error(`${url} answered ${r.statusCode}`);
    }
    return (M / (performance.now() - start)) * 1000;
  };
  await rate('/healthz');
  const health = await rate('/healthz');
  const me = await rate('/api/v1/me', { cookie });
  results.push({
    bench: 'auth.me',
    requests: M,
    perSecond: Math.round(me),
    ceiling: Math.round(health),
    ratio: +(me / health).toFixed(3),
  });

  const S = 10_000;
  const user = (await services.userRepository.findByLogin(t.id, 'bench'))!;
  const pageBytes = async () => {
    const r = await sql<{ n: number }>`select page_count * page_size as n from pragma_page_count(), pragma_page_size()`.execute(
      services.database.db,
    );
    return Number(r.rows[0]!.n);
  };
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const dbBefore = await pageBytes();
  for (let i = 0; i < S; i += 500) {
    await services.database.transaction(async (trx) => {
      for (let j = 0; j < 500; j++) {
        await services.sessionService.create(
          trx,
          user,
          settings,
          { zone: 'lgwan', ip: '192.0.2.1', userAgent: 'bench/1.0', requestId: null },
          'full',
        );
      }
    });
  }
  global.gc?.();
  const heapDelta = process.memoryUsage().heapUsed - heapBefore;
  const dbDelta = (await pageBytes()) - dbBefore;
  results.push({
    bench: 'auth.sessions',
    sessions: S,
    heapBytesPer10k: heapDelta,
    dbBytesPer10k: dbDelta,
    dbBytesPerSession: Math.round(dbDelta / S),
  });
  await app.close();
}

async function benchBlobCipher(): Promise<void> {
  const MiB = 1024 * 1024;
  const total = Number(process.env.BENCH_BLOB_MIB ?? 256) * MiB;
  const chunk = randomBytes(MiB);
  const dek = randomBytes(32);
  const ctx = { tenantId: 't', blobId: 'b' };
  const source = () =>
    Readable.from(
      (function* () {
        for (let off = 0; off < total; off += MiB) yield chunk;
      })(),
    );
  const key = randomBytes(32);
  const nonce = randomBytes(12);
  let t0 = performance.now();
  for (let off = 0; off < total; off += 64 * 1024)
    aesGcmEncrypt(key, nonce, chunk.subarray(off % MiB, (off % MiB) + 64 * 1024), Buffer.alloc(0));
  const ceiling = total / MiB / ((performance.now() - t0) / 1000);
  const rssBefore = process.memoryUsage().rss;
  let peak = rssBefore;
  const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  const cipherChunks: Buffer[] = [];
  let cipherBytes = 0;
  t0 = performance.now();
  await pipeline(
    source(),
    createEncryptStream(dek, ctx),
    new Writable({
      write(c: Buffer, _e, cb) {
        cipherBytes += c.length;
        if (cipherChunks.length < 1) cipherChunks.push(c);
        cb();
      },
    }),
  );
  const enc = total / MiB / ((performance.now() - t0) / 1000);
  // Decrypt what we encrypt on the fly (no 256 MiB buffer in memory): encrypt → decrypt in one pipeline.
  let plainBytes = 0;
  t0 = performance.now();
  await pipeline(
    source(),
    createEncryptStream(dek, ctx),
    createDecryptStream(dek, ctx),
    new Writable({
      write(c: Buffer, _e, cb) {
        plainBytes += c.length;
        cb();
      },
    }),
  );
  const both = total / MiB / ((performance.now() - t0) / 1000);
  clearInterval(sample);
  if (plainBytes !== total || cipherBytes !== ciphertextSize(total)) throw new Error('blob cipher round trip lost bytes');
  // encrypt+decrypt time = 1/enc + 1/dec  →  dec = 1 / (1/both − 1/enc)
  const dec = 1 / (1 / both - 1 / enc);
  results.push({
    bench: 'blob.encrypt',
    mib: total / MiB,
    mibPerSecond: Math.round(enc),
    ceiling: Math.round(ceiling),
    ratio: +(enc / ceiling).toFixed(3),
  });
  results.push({
    bench: 'blob.decrypt',
    mib: total / MiB,
    mibPerSecond: Math.round(dec),
    ceiling: Math.round(ceiling),
    ratio: +(dec / ceiling).toFixed(3),
    peakRssGrowthMiB: Math.round((peak - rssBefore) / MiB),
  });
}

const only = process.env.BENCH_ONLY ?? '';
if (!['', 'files', 'malware'].includes(only)) throw new Error(`BENCH_ONLY must be files or malware, got ${only}`);
if (only === '') await main();
if ((only === '' || only === 'malware') && process.env.BENCH_MALWARE !== 'off') {
  for (const r of await runMalwareBench())
    console.log(
      JSON.stringify({ bench: r.bench, value: r.value, unit: r.unit, ceiling: r.ceiling, ratio: r.ratio, result: r.result }),
    );
}
if ((only === '' || only === 'files') && process.env.BENCH_FILES !== 'off') {
  for (const r of await runFilesBench())
    console.log(
      JSON.stringify({ bench: r.bench, value: r.value, unit: r.unit, ceiling: r.ceiling, ratio: r.ratio, result: r.result }),
    );
}
