/**
 * Database handle for both engines (design §1): SQLite in WAL mode for the embedded mode,
 * PostgreSQL for scale-out. Everything above this file talks Kysely and never asks which engine,
 * except where SQL really differs (row locks), through `Database.dialect`.
 */
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type Transaction,
} from 'kysely';
import pg from 'pg';
import type { DB } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
export type Executor = Kysely<DB> | Transaction<DB>;

export interface Database {
  readonly db: Kysely<DB>;
  readonly dialect: Dialect;
  /** Human description without credentials, for logs and the compliance console. */
  readonly description: string;
  /** Runs `fn` in one transaction (SQLite: BEGIN IMMEDIATE, so writers never deadlock on upgrade). */
  transaction<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  /**
   * Serialises the transactions that take the same `key` until `trx` ends (a check-then-write such
   * as a quota, across processes). PostgreSQL: a transaction-scoped advisory lock; SQLite: nothing
   * to do, BEGIN IMMEDIATE already lets one writer in at a time.
   */
  lock(trx: Transaction<DB>, key: string): Promise<void>;
  /** Cheap liveness probe used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…` for PostgreSQL; otherwise a SQLite file path (or `:memory:`). */
  url: string;
  /** PostgreSQL schema to use (created by migrations); isolates test runs and tenants of a cluster. */
  schema?: string | undefined;
  /** Pool size for PostgreSQL. */
  poolSize?: number;
}

/** SQLite busy timeout: how long a writer waits for another process's lock before SQLITE_BUSY. */
const SQLITE_BUSY_TIMEOUT_MS = 5000;

// int8 (bigint) → number: our 64-bit columns (sizes, sequence numbers) stay below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(cfg);
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.cfg);
  }
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//i.test(url);
}

export function openDatabase(opts: DatabaseOptions): Database {
  return isPostgresUrl(opts.url) ? openPostgres(opts) : openSqlite(opts.url);
}

function openSqlite(path: string): Database {
  const sqlite = new BetterSqlite3(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
  // FULL: a committed audit event survives power loss, not only a process crash.
  sqlite.pragma('synchronous = FULL');
  const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) });
  return {
    db,
    dialect: 'sqlite',
    description: `SQLite ${path}`,
    transaction: (fn) => db.transaction().execute(fn),
    lock: async () => {},
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: async () => {
      await db.destroy();
      if (sqlite.open) sqlite.close();
    },
  };
}

function openPostgres(opts: DatabaseOptions): Database {
  const schema = opts.schema;
  if (schema && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${schema}`);
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.poolSize ?? 10,
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process; the next query reports it.
  pool.on('error', () => {});
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const u = new URL(opts.url);
  return {
    db,
    dialect: 'postgres',
    description: `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}${schema ? ` schema ${schema}` : ''}`,
    transaction: (fn) => db.transaction().execute(fn),
    lock: async (trx, key) => {
      await sql`select pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(trx);
    },
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

const PG_UNAVAILABLE = /^(08|53|57P)/; // connection exceptions, insufficient resources, operator intervention
const NODE_NET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE']);
const SQLITE_UNAVAILABLE = new Set(['SQLITE_BUSY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR', 'SQLITE_FULL', 'SQLITE_READONLY']);

/**
 * True when an error means the database is unreachable or unusable (not a bug in a query), so the
 * request answers 503 `service.unavailable` instead of 500.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (!err || typeof err !== 'object') return false;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (NODE_NET_ERRORS.has(code) || PG_UNAVAILABLE.test(code)) return true;
  if ([...SQLITE_UNAVAILABLE].some((c) => code.startsWith(c))) return true;
  const msg = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|The database connection is not open|driver has already been destroyed/i.test(
    msg,
  );
}
