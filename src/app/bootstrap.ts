/**
 * Initialising and opening a Kura instance: the data directory, the master key, the database and
 * its migrations, the system tenant, the service keys. Refuses to start over existing data with a
 * missing, unreadable or foreign master key (never a new key silently created over old data).
 */
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Logger } from 'pino';
import { configPath, type ResolvedConfig } from '../config/load-config.js';
import type { Clock } from '../core/clock.js';
import { LocalKeyFileProvider, MasterKeyError, type KeyProvider } from '../crypto/key-provider.js';
import { openDatabase, type Database } from '../db/database.js';
import { migrateToLatest } from '../db/migrations.js';
import { createServices, type Services } from './services.js';
import { SYSTEM_TENANT_ID, systemActor, type TenantId } from '../core/types.js';
import { setupUrl } from '../identity/setup-link.js';
import type { Role } from '../tenants/tenant-settings.js';

export interface InitOptions {
  region: string;
  facility: string;
}

/** Writes a kura.yaml declaring the embedded locations in Japan (FAC-01) unless one exists. */
export function writeDefaultConfig(env: Record<string, string | undefined>, cwd: string, opts: InitOptions): string | null {
  const file = configPath(env, cwd);
  if (existsSync(file)) return null;
  const pg = Boolean(env.KURA_DATABASE_URL?.startsWith('postgres'));
  const loc = (name: string, kind: string, facility = opts.facility) => ({
    name,
    kind,
    country: 'JP',
    region: opts.region,
    facility,
  });
  const doc = {
    dataDir: env.KURA_DATA_DIR ?? './data',
    locations: [
      loc('database', 'database', pg ? `${opts.facility} (PostgreSQL)` : opts.facility),
      loc('blobs', 'blobs'),
      loc('checkpoints', 'checkpoints'),
      loc('backups', 'backups'),
      loc('exports', 'exports'),
      loc('staging', 'staging'),
    ],
  };
  writeFileSync(
    file,
    `# Kura configuration, written by \`kura init\` on ${new Date().toISOString()}.\n` +
      `# Every place that holds customer data is declared with its location; a location outside JP stops the start (FAC-01).\n` +
      stringify(doc),
    { mode: 0o640 },
  );
  return file;
}

export interface OpenedKura {
  services: Services;
  created: { masterKey: boolean; database: boolean };
}

const META_MASTER_KEY = 'master_key_id';

/**
 * Opens (and with `create`, initialises) the instance: migrations run at every open. Existing data
 * is recognised by the database's recorded master-key id; a fresh data directory gets a new key.
 */
export async function openKura(
  config: ResolvedConfig,
  opts: { create: boolean; clock?: Clock; logger?: Logger },
): Promise<OpenedKura> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const database = openDatabase({
    url: config.paths.database,
    schema: config.database.schema,
    poolSize: config.database.poolSize,
  });
  try {
    await migrate(config, database);
    // The SQLite file holds wrapped keys, session hashes and the audit chain: owner only, whatever
    // the umask or a pre-existing directory (SQLite gives its -wal and -shm files the same mode).
    if (database.dialect === 'sqlite') chmodSync(config.paths.database, 0o600);
    const recorded = await database.db
      .selectFrom('kura_meta')
      .select('value')
      .where('key', '=', META_MASTER_KEY)
      .executeTakeFirst();
    let keyProvider: KeyProvider;
    let createdKey = false;
    if (!recorded && !existsSync(config.paths.masterKey)) {
      if (!opts.create) throw new MasterKeyError(`this instance is not initialised; run \`kura init\` first`);
      keyProvider = LocalKeyFileProvider.create(config.paths.masterKey);
      createdKey = true;
    } else {
      keyProvider = LocalKeyFileProvider.load(config.paths.masterKey);
    }
    if (recorded && recorded.value !== keyProvider.keyId) {
      throw new MasterKeyError(
        `master key ${config.paths.masterKey} (${keyProvider.keyId}) is not the key this data was created with (${recorded.value})`,
      );
    }
    if (!recorded) {
      await database.db.insertInto('kura_meta').values({ key: META_MASTER_KEY, value: keyProvider.keyId }).execute();
    }
    const services = await createServices(config, database, keyProvider, { clock: opts.clock, logger: opts.logger });
    await services.tenants.ensureSystemTenant();
    return { services, created: { masterKey: createdKey, database: !recorded } };
  } catch (err) {
    await database.close();
    throw err;
  }
}

/**
 * Applies migrations, as the schema owner (`database.migrationUrl`) when one is configured so the
 * service's own role keeps least privilege (LOG-02), otherwise over the service's connection.
 */
export async function migrate(config: ResolvedConfig, database: Database): Promise<string[]> {
  const opts = { schema: config.database.schema, appRole: config.database.appRole };
  if (!config.database.migrationUrl) return migrateToLatest(database, opts);
  const owner = openDatabase({ url: config.database.migrationUrl, schema: config.database.schema, poolSize: 1 });
  try {
    return await migrateToLatest(owner, opts);
  } finally {
    await owner.close();
  }
}

/** Creates a user with a 72-hour one-time setup link (operator CLI, first start); returns the link. */
export async function createUserWithLink(
  services: Services,
  tenantId: string,
  input: { loginId: string; displayName: string; role: Role; email?: string | undefined },
  by: string,
): Promise<string> {
  const { setupToken } = await services.userAdmin.create(systemActor(tenantId as TenantId, by), input, { preApproved: true });
  return setupUrl(services.publicBaseUrl('lgwan'), setupToken!);
}

/** The first tenant and its first administrator on a fresh installation; returns the admin's setup link. */
export async function createFirstTenant(
  services: Services,
  opts: { slug: string; name: string; adminLogin: string },
): Promise<{ slug: string; displayName: string; setupUrl: string }> {
  const t = await services.tenants.create(systemActor(SYSTEM_TENANT_ID, 'first-start'), {
    slug: opts.slug,
    displayName: opts.name,
  });
  const link = await createUserWithLink(
    services,
    t.id,
    { loginId: opts.adminLogin, displayName: '管理者', role: 'tenant_admin' },
    'first-start',
  );
  return { slug: t.slug, displayName: t.displayName, setupUrl: link };
}
