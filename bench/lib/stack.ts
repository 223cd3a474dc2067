/**
 * A running `kura serve` for the files benchmark: its own data dir and config (jobs on, the given
 * clamd, uploads up to 3 GiB, no rate limit), a tenant whose staff user signs in without MFA (as
 * bench/run.ts does in process), a signed-in session and a top-level folder. Also usable on its own
 * for profiling (BENCH_KURA_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof').
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pino from 'pino';
import { createUserWithLink, openKura, writeDefaultConfig } from '../../src/app/bootstrap.js';
import { loadConfig } from '../../src/config/load-config.js';
import { systemActor } from '../../src/core/types.js';
import { KuraSession } from './client.js';
import { onCleanup, startKura, type KuraServer } from './processes.js';

const MiB = 1024 * 1024;

export interface KuraStack {
  kura: KuraServer;
  session: KuraSession;
  folderId: string;
  jobsPollMs: number;
  dataDir: string;
  /** The server's environment, to start it again on the same data (e.g. with profiling flags). */
  env: Record<string, string>;
}

export async function startKuraStack(
  dir: string,
  opts: { main: string | null; clamd: string; jobsPollMs?: number | null; nodeArgs?: string[] },
): Promise<KuraStack> {
  mkdirSync(dir, { recursive: true });
  const env: Record<string, string> = {
    KURA_CONFIG: join(dir, 'kura.yaml'),
    KURA_DATA_DIR: join(dir, 'data'),
    KURA_LOG_LEVEL: 'warn',
    KURA_JOBS: 'on',
    KURA_CLAMD: opts.clamd,
    KURA_UPLOAD_MAX_BYTES: String(3 * 1024 * MiB),
  };
  writeDefaultConfig(env, dir, { region: '東京都', facility: 'bench' });
  // Rate limiting is not what is measured here (the scan polls alone would trip it).
  appendFileSync(
    env.KURA_CONFIG!,
    `limits:\n  requestsPerMinute: 1000000\n${opts.jobsPollMs ? `jobs:\n  pollMs: ${opts.jobsPollMs}\n` : ''}`,
  );
  const { services } = await openKura(loadConfig(env, dir), { create: true, logger: pino({ level: 'silent' }) });
  let link: string;
  let jobsPollMs: number;
  try {
    const tenant = await services.tenants.create(systemActor(), { slug: 'bench-files', displayName: 'ファイルベンチ市' });
    const settings = await services.tenantPolicy.get(tenant.id);
    await services.tenantPolicy.update(systemActor(tenant.id), { ...settings, mfa: { ...settings.mfa, requiredForAll: false } });
    link = await createUserWithLink(services, tenant.id, { loginId: 'bench', displayName: 'ベンチ', role: 'staff' }, 'bench');
    jobsPollMs = services.config.jobs.pollMs;
  } finally {
    await services.database.close();
  }
  const kura = await startKura(dir, env, opts.main, opts.nodeArgs ?? []);

  const session = new KuraSession('127.0.0.1', kura.port);
  onCleanup(() => session.close());
  const password = 'granite-violet-harbor-7';
  const token = new URL(link).hash.replace('#token=', '');
  const setup = await session.ok('POST', '/api/v1/auth/setup/complete', { token, password, confirmPassword: password });
  if (setup.next === 'terms') {
    const terms = await session.ok('GET', '/api/v1/auth/terms');
    await session.ok('POST', '/api/v1/auth/terms/accept', { version: terms.version });
  } else if (setup.next !== 'done') throw new Error(`sign-in stopped at ${setup.next}`);
  await session.ok('GET', '/api/v1/me');
  const folder = await session.ok('POST', '/api/v1/folders', { parentId: null, name: 'bench' });
  return { kura, session, folderId: folder.id, jobsPollMs, dataDir: env.KURA_DATA_DIR!, env };
}

/**
 * Where the newest version of a file keeps its encrypted blob (the local-directory store's layout,
 * src/storage/fs-blob-store.ts), read from the SQLite file: to bring it into the page cache before a
 * download is timed, as nginx's file is.
 */
export function blobPathOf(dataDir: string, fileId: string): string {
  const db = new BetterSqlite3(join(dataDir, 'kura.db'), { readonly: true, fileMustExist: true });
  try {
    const row = db
      .prepare('select tenant_id, blob_id from file_versions where file_id = ? order by version desc limit 1')
      .get(fileId) as { tenant_id: string; blob_id: string } | undefined;
    if (!row) throw new Error(`no version of file ${fileId}`);
    return join(dataDir, 'blobs', row.tenant_id, row.blob_id.slice(0, 2), row.blob_id);
  } finally {
    db.close();
  }
}

/** Why scans failed: the `file.scan_failed` audit details (read from the SQLite file) and clamd's log lines about streams. */
export function scanDiagnostics(dataDir: string, clamdLog: string | null): string[] {
  const out: string[] = [];
  const dbFile = ['kura.db', 'kura.sqlite', 'kura.sqlite3'].map((n) => join(dataDir, n)).find((p) => existsSync(p));
  if (dbFile) {
    try {
      const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
      try {
        const rows = db
          .prepare(`select occurred_at, details from audit_events where action = 'file.scan_failed' order by occurred_at`)
          .all() as Array<{ occurred_at: string; details: string }>;
        for (const r of rows) out.push(`audit file.scan_failed ${r.occurred_at} ${r.details}`);
      } finally {
        db.close();
      }
    } catch (err) {
      out.push(`(audit not readable: ${(err as Error).message})`);
    }
  }
  if (clamdLog && existsSync(clamdLog)) {
    for (const line of readFileSync(clamdLog, 'utf8').split('\n'))
      if (/stream|FOUND|ERROR|WARNING|limit/i.test(line) && !/Limits: |set to/.test(line)) out.push(`clamd: ${line}`);
  }
  return out;
}
