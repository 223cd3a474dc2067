/**
 * Test instances of Kura on the engine chosen by KURA_TEST_DB (sqlite | postgres). PostgreSQL
 * runs get their own schema and connect as a least-privilege role, as in production; the owner
 * connection is kept for tampering tests that play an attacker with direct database access.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { openKura, writeDefaultConfig } from '../../src/app/bootstrap.js';
import type { Services } from '../../src/app/services.js';
import { loadConfig, type ResolvedConfig } from '../../src/config/load-config.js';
import type { Clock } from '../../src/core/clock.js';
import { randomToken } from '../../src/crypto/primitives.js';
import { testS3Options, uniqueS3Prefix } from './s3.js';

export type Engine = 'sqlite' | 'postgres';
export const ENGINE: Engine = process.env.KURA_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

export const PG_HOST = process.env.KURA_TEST_PG_HOST ?? '127.0.0.1';
export const PG_DB = process.env.KURA_TEST_PG_DB ?? 'test';
export const PG_OWNER_URL = `postgres://postgres@${PG_HOST}:5432/${PG_DB}`;
export const PG_APP_ROLE = 'kura_app';
export const PG_APP_URL = `postgres://${PG_APP_ROLE}@${PG_HOST}:5432/${PG_DB}`;

/** Raw SQL as the database owner (PostgreSQL superuser / the SQLite file itself). */
export interface RawDb {
  exec(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export interface TestKura {
  services: Services;
  config: ResolvedConfig;
  env: Record<string, string>;
  dir: string;
  engine: Engine;
  schema: string | null;
  raw(): Promise<RawDb>;
  close(): Promise<void>;
}

async function ensureAppRole(): Promise<void> {
  const client = new pg.Client({ connectionString: PG_OWNER_URL });
  await client.connect();
  try {
    await client.query(`do $$ begin
      if not exists (select 1 from pg_roles where rolname = '${PG_APP_ROLE}') then create role ${PG_APP_ROLE} login; end if;
      exception when duplicate_object or unique_violation then null; end $$`);
  } finally {
    await client.end();
  }
}

/** Environment for a fresh instance in a temp dir on the chosen engine. */
export async function testEnv(
  dir: string,
  engine: Engine = ENGINE,
): Promise<{ env: Record<string, string>; schema: string | null }> {
  const env: Record<string, string> = {
    KURA_CONFIG: join(dir, 'kura.yaml'),
    KURA_DATA_DIR: join(dir, 'data'),
    KURA_LGWAN_PORT: '0',
    KURA_INTERNET_PORT: '0',
    KURA_HOST: '127.0.0.1',
    KURA_LOG_LEVEL: 'silent',
    KURA_JOBS: 'off',
  };
  // The test clamd when there is one; never a managed clamd of each instance's own.
  if (process.env.KURA_TEST_CLAMD) env.KURA_CLAMD = process.env.KURA_TEST_CLAMD;
  else env.KURA_CLAMD_MANAGED = 'off';
  let schema: string | null = null;
  // The PostgreSQL runs keep blobs in S3 (Ceph RGW), the SQLite runs in the local directory: every
  // files route is then tested on both stores, as deployed (embedded vs scale-out).
  const s3 = engine === 'postgres' && process.env.KURA_TEST_S3_ENDPOINT ? testS3Options(uniqueS3Prefix('kura')) : undefined;
  if (s3) {
    const secretFile = join(dir, 's3-secret');
    writeFileSync(secretFile, s3.secretAccessKey, { mode: 0o600 });
    Object.assign(env, {
      KURA_S3_ENDPOINT: s3.endpoint,
      KURA_S3_BUCKET: s3.bucket,
      KURA_S3_PREFIX: s3.prefix,
      KURA_S3_ACCESS_KEY_ID: s3.accessKeyId,
      KURA_S3_SECRET_ACCESS_KEY_FILE: secretFile,
    });
  }
  if (engine === 'postgres') {
    await ensureAppRole();
    schema = `t_${randomToken(6)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')}_${process.pid}`;
    Object.assign(env, {
      KURA_DATABASE_URL: PG_APP_URL,
      KURA_DATABASE_MIGRATION_URL: PG_OWNER_URL,
      KURA_DATABASE_SCHEMA: schema,
      KURA_DATABASE_APP_ROLE: PG_APP_ROLE,
    });
  }
  writeDefaultConfig(env, dir, { region: '東京都', facility: 'test' });
  return { env, schema };
}

export async function createTestKura(
  opts: { clock?: Clock; engine?: Engine; env?: Record<string, string> } = {},
): Promise<TestKura> {
  const engine = opts.engine ?? ENGINE;
  const dir = mkdtempSync(join(tmpdir(), 'kura-test-'));
  const { env, schema } = await testEnv(dir, engine);
  Object.assign(env, opts.env ?? {});
  const config = loadConfig(env, dir);
  const { services } = await openKura(config, { create: true, clock: opts.clock, logger: pino({ level: 'silent' }) });
  const raw = async (): Promise<RawDb> => (engine === 'postgres' ? rawPostgres(schema!) : rawSqlite(config.paths.database));
  return {
    services,
    config,
    env,
    dir,
    engine,
    schema,
    raw,
    async close() {
      await services.database.close();
      if (schema) {
        const r = await rawPostgres(schema);
        await r.exec(`drop schema if exists ${schema} cascade`);
        await r.close();
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function rawPostgres(schema: string): Promise<RawDb> {
  const client = new pg.Client({ connectionString: PG_OWNER_URL, options: `-c search_path=${schema}` });
  await client.connect();
  return {
    exec: async (sql, params) => (await client.query(sql, params as unknown[])).rows as Array<Record<string, unknown>>,
    close: () => client.end(),
  };
}

export function rawSqlite(path: string): RawDb {
  const db = new BetterSqlite3(path);
  return {
    exec: async (sql, params = []) => {
      // $1-style placeholders become named ones, so a parameter may appear anywhere and repeatedly.
      const stmt = db.prepare(sql.replace(/\$(\d+)/g, '@p$1'));
      const named = Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]));
      const args = params.length ? [named] : [];
      return stmt.reader ? (stmt.all(...args) as Array<Record<string, unknown>>) : (stmt.run(...args), []);
    },
    close: async () => void db.close(),
  };
}

/**
 * Runs SQL as an attacker with direct database access: on SQLite the append-only triggers are
 * dropped first and restored after; on PostgreSQL the owner disables them for the statement.
 */
export async function tamper(k: TestKura, sql: string, params: unknown[] = []): Promise<void> {
  const raw = await k.raw();
  try {
    if (k.engine === 'sqlite') {
      const triggers = (await raw.exec(`select name, sql from sqlite_master where type = 'trigger'`)) as Array<{
        name: string;
        sql: string;
      }>;
      for (const t of triggers) await raw.exec(`drop trigger ${t.name}`);
      try {
        await raw.exec(sql, params);
      } finally {
        for (const t of triggers) await raw.exec(t.sql);
      }
    } else {
      await raw.exec('set session_replication_role = replica');
      await raw.exec(sql, params);
      await raw.exec('set session_replication_role = origin');
    }
  } finally {
    await raw.close();
  }
}

/** A second node on the same database and data dir: its own connection pool, as another process has. */
export async function secondNode(k: TestKura, clock?: Clock): Promise<Services> {
  const { openDatabase } = await import('../../src/db/database.js');
  const { createServices } = await import('../../src/app/services.js');
  const { LocalKeyFileProvider } = await import('../../src/crypto/key-provider.js');
  const database = openDatabase({ url: k.config.paths.database, schema: k.config.database.schema, poolSize: 4 });
  return createServices(k.config, database, LocalKeyFileProvider.load(k.config.paths.masterKey), {
    clock,
    logger: pino({ level: 'silent' }),
  });
}
