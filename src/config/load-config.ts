/**
 * Loads the configuration: defaults ← `kura.yaml` (KURA_CONFIG or ./kura.yaml) ← KURA_* env.
 * Paths in the file are relative to the file; in the environment, to the working directory.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigSchema, crossFieldProblems, type KuraConfig } from './config.schema.js';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface ResolvedConfig extends KuraConfig {
  /** The file the configuration came from, if any. */
  configFile: string | null;
  paths: {
    database: string;
    blobs: string;
    checkpoints: string;
    masterKey: string;
    certs: string;
    staging: string;
    clamav: string;
  };
}

type Env = Record<string, string | undefined>;

/** Where the config file is looked for: KURA_CONFIG, else ./kura.yaml. */
export function configPath(env: Env = process.env, cwd = process.cwd()): string {
  return env.KURA_CONFIG ? resolve(cwd, env.KURA_CONFIG) : join(cwd, 'kura.yaml');
}

export function loadConfig(env: Env = process.env, cwd = process.cwd()): ResolvedConfig {
  const file = configPath(env, cwd);
  let fromFile: Record<string, unknown> = {};
  let configFile: string | null = null;
  if (existsSync(file)) {
    configFile = file;
    try {
      fromFile = (parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown> | null) ?? {};
    } catch (err) {
      throw new ConfigError([`${file}: not valid YAML (${(err as Error).message.split('\n')[0]})`]);
    }
    if (typeof fromFile !== 'object' || Array.isArray(fromFile)) throw new ConfigError([`${file}: must be a YAML mapping`]);
  } else if (env.KURA_CONFIG) {
    throw new ConfigError([`KURA_CONFIG names ${file}, which does not exist`]);
  }
  const base = configFile ? dirname(configFile) : cwd;
  const f = fromFile as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const zonesF = (f.zones ?? {}) as Record<string, Record<string, unknown> | undefined>;
  const list = (v: string | undefined) =>
    v === undefined
      ? undefined
      : v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
  const pathFrom = (fileValue: unknown, envValue: string | undefined): string | undefined => {
    if (envValue) return resolve(cwd, envValue);
    return typeof fileValue === 'string' ? (isAbsolute(fileValue) ? fileValue : resolve(base, fileValue)) : undefined;
  };
  const zone = (name: 'lgwan' | 'internet', defPort: number) => {
    const z = zonesF[name] ?? {};
    const E = name.toUpperCase();
    return {
      ...z,
      port: env[`KURA_${E}_PORT`] ?? z.port ?? defPort,
      host: env[`KURA_${E}_HOST`] ?? env.KURA_HOST ?? z.host,
      certFile: pathFrom(z.certFile, env[`KURA_${E}_CERT`]),
      keyFile: pathFrom(z.keyFile, env[`KURA_${E}_KEY`]),
      requestClientCert:
        env[`KURA_${E}_CLIENT_CERT`] === undefined ? z.requestClientCert : env[`KURA_${E}_CLIENT_CERT`] === 'request',
    };
  };
  const db = (f.database ?? {}) as Record<string, unknown>;
  const raw = {
    ...f,
    dataDir: pathFrom(f.dataDir, env.KURA_DATA_DIR) ?? resolve(cwd, 'data'),
    database: {
      ...db,
      url: env.KURA_DATABASE_URL ?? db.url,
      schema: env.KURA_DATABASE_SCHEMA ?? db.schema,
      appRole: env.KURA_DATABASE_APP_ROLE ?? db.appRole,
      migrationUrl: env.KURA_DATABASE_MIGRATION_URL ?? db.migrationUrl,
    },
    zones: { lgwan: zone('lgwan', 8443), internet: zone('internet', 9443) },
    trustedProxies: list(env.KURA_TRUSTED_PROXIES) ?? f.trustedProxies,
    monitoringAllow: list(env.KURA_MONITORING_ALLOW) ?? f.monitoringAllow,
    blobDir: pathFrom(f.blobDir, env.KURA_BLOB_DIR),
    stagingDir: pathFrom(f.stagingDir, env.KURA_STAGING_DIR),
    s3: s3Config(f.s3 as Record<string, unknown> | undefined, env, (v, e) => pathFrom(v, e)),
    uploads: {
      ...(f.uploads ?? {}),
      ...(env.KURA_UPLOAD_MAX_BYTES ? { maxFileBytes: env.KURA_UPLOAD_MAX_BYTES } : {}),
    },
    scanner: {
      ...(f.scanner ?? {}),
      ...(env.KURA_CLAMD ? { clamd: list(env.KURA_CLAMD) } : {}),
      ...(env.KURA_CLAMD_MANAGED || env.KURA_CLAMD_DB_DIR
        ? {
            managed: {
              ...((f.scanner as { managed?: object } | undefined)?.managed ?? {}),
              ...(env.KURA_CLAMD_MANAGED ? { enabled: env.KURA_CLAMD_MANAGED !== 'off' } : {}),
              ...(env.KURA_CLAMD_DB_DIR ? { databaseDir: env.KURA_CLAMD_DB_DIR } : {}),
            },
          }
        : {}),
    },
    mail: mailConfig(f.mail as Record<string, unknown> | undefined, env, (v, e) => pathFrom(v, e)),
    checkpointDir: pathFrom(f.checkpointDir, env.KURA_CHECKPOINT_DIR),
    masterKeyFile: pathFrom(f.masterKeyFile, env.KURA_MASTER_KEY_FILE),
    logLevel: env.KURA_LOG_LEVEL ?? f.logLevel,
    jobs: env.KURA_JOBS === undefined ? f.jobs : { ...(f.jobs ?? {}), enabled: env.KURA_JOBS !== 'off' },
  };
  const parsed = ConfigSchema.safeParse(raw);
  const problems = [
    ...(parsed.error?.issues ?? []).map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`),
    ...crossFieldProblems(raw),
  ];
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const cfg = parsed.data;
  return {
    ...cfg,
    configFile,
    paths: {
      database: cfg.database.url ?? join(cfg.dataDir, 'kura.db'),
      blobs: cfg.blobDir ?? join(cfg.dataDir, 'blobs'),
      checkpoints: cfg.checkpointDir ?? join(cfg.dataDir, 'checkpoints'),
      masterKey: cfg.masterKeyFile ?? join(cfg.dataDir, 'master.key'),
      certs: join(cfg.dataDir, 'tls'),
      staging: cfg.stagingDir ?? join(cfg.dataDir, 'staging'),
      clamav: join(cfg.dataDir, 'clamav'),
    },
  };
}

/** The mail section: the file's values, each overridable by `KURA_SMTP_*` / `KURA_MAIL_FROM`. */
function mailConfig(
  f: Record<string, unknown> | undefined,
  env: Env,
  pathFrom: (fileValue: unknown, envValue: string | undefined) => string | undefined,
): Record<string, unknown> {
  const v = f ?? {};
  const smtpFile = (v.smtp ?? undefined) as Record<string, unknown> | undefined;
  const host = env.KURA_SMTP_HOST ?? smtpFile?.host;
  const smtp = host
    ? {
        ...(smtpFile ?? {}),
        host,
        ...(env.KURA_SMTP_PORT ? { port: env.KURA_SMTP_PORT } : {}),
        ...(env.KURA_SMTP_SECURE ? { secure: env.KURA_SMTP_SECURE === 'true' } : {}),
        ...(env.KURA_SMTP_REQUIRE_TLS ? { requireTLS: env.KURA_SMTP_REQUIRE_TLS !== 'false' } : {}),
        ...(env.KURA_SMTP_USER ? { user: env.KURA_SMTP_USER } : {}),
        passwordFile: pathFrom(smtpFile?.passwordFile, env.KURA_SMTP_PASSWORD_FILE),
        caFile: pathFrom(smtpFile?.caFile, env.KURA_SMTP_CA_FILE),
      }
    : undefined;
  return { ...v, ...(env.KURA_MAIL_FROM ? { from: env.KURA_MAIL_FROM } : {}), smtp };
}

/** The S3 section: the file's values, each overridable by `KURA_S3_*` (all of them set = S3 on). */
function s3Config(
  f: Record<string, unknown> | undefined,
  env: Env,
  pathFrom: (fileValue: unknown, envValue: string | undefined) => string | undefined,
): Record<string, unknown> | undefined {
  if (!f && !env.KURA_S3_ENDPOINT) return undefined;
  const v = f ?? {};
  return {
    ...v,
    endpoint: env.KURA_S3_ENDPOINT ?? v.endpoint,
    region: env.KURA_S3_REGION ?? v.region,
    bucket: env.KURA_S3_BUCKET ?? v.bucket,
    prefix: env.KURA_S3_PREFIX ?? v.prefix,
    accessKeyId: env.KURA_S3_ACCESS_KEY_ID ?? v.accessKeyId,
    secretAccessKeyFile: pathFrom(v.secretAccessKeyFile, env.KURA_S3_SECRET_ACCESS_KEY_FILE),
  };
}
