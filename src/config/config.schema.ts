/**
 * The configuration schema (design §8): one zod schema for `kura.yaml` plus `KURA_*` overrides,
 * validated once at start; every problem is reported together.
 */
import { z } from 'zod';
import { isAddressOrCidr } from '../core/address-allow.js';

export const LOCATION_KINDS = ['database', 'blobs', 'backups', 'checkpoints', 'exports', 'staging'] as const;
/** Kinds the embedded mode always uses; each must be declared (FAC-01). */
export const REQUIRED_LOCATION_KINDS = ['database', 'blobs', 'checkpoints'] as const;

/**
 * 1 GiB: comfortably inside what ClamAV scans whole. Near its 2 GiB ceiling, random content was seen
 * to trip `Heuristics.Limits.Exceeded.MaxScanSize` (embedded content counts against MaxScanSize), which
 * would leave such a file held for good.
 */
export const DEFAULT_MAX_FILE_BYTES = 1024 ** 3;

/** 0 = any free port (tests). */
const Port = z.coerce.number().int().min(0).max(65535);

const Cidr = z.string().refine(isAddressOrCidr, 'an IPv4/IPv6 address or CIDR range');

const ZoneConfig = z.strictObject({
  port: Port,
  host: z.string().min(1).default('0.0.0.0'),
  /** PEM certificate chain and key; unset = a generated self-signed certificate (TLS-01). */
  certFile: z.string().min(1).optional(),
  keyFile: z.string().min(1).optional(),
  /** Public name used in links and the self-signed certificate. */
  publicUrl: z.url().optional(),
  /** Ask TLS clients for a certificate (needed when a tenant requires device certificates, AC-11); never mandatory at TLS level. */
  requestClientCert: z.boolean().default(false),
});

export const Location = z.strictObject({
  name: z.string().min(1),
  kind: z.enum(LOCATION_KINDS),
  country: z.string().min(2).max(2),
  region: z.string().min(1),
  facility: z.string().min(1),
});
export type Location = z.infer<typeof Location>;

const ClamdAddress = z.string().regex(/^(tcp:\/\/[^\s/]+:\d+|unix:\/.+)$/, 'tcp://host:port or unix:/path');

export const ConfigSchema = z.strictObject({
  dataDir: z.string().min(1),
  database: z.strictObject({
    /** Unset = SQLite at `<dataDir>/kura.db`; `postgres://…` = PostgreSQL. */
    url: z.string().min(1).optional(),
    schema: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .optional(),
    /** PostgreSQL role the service connects as; `kura migrate` grants it least privilege. */
    appRole: z
      .string()
      .regex(/^[a-z_][a-z0-9_]{0,62}$/)
      .optional(),
    /** PostgreSQL URL used by `kura migrate` (the schema owner); defaults to `url`. */
    migrationUrl: z.string().min(1).optional(),
    poolSize: z.coerce.number().int().min(1).max(200).default(10),
  }),
  zones: z.strictObject({ lgwan: ZoneConfig, internet: ZoneConfig }),
  /** Peers whose `X-Forwarded-For` is believed (AC-10); everyone else's is ignored. */
  trustedProxies: z.array(Cidr).default([]),
  /** Addresses allowed to read /metrics and readiness details (MON-01). */
  monitoringAllow: z.array(Cidr).default(['127.0.0.1', '::1']),
  blobDir: z.string().min(1).optional(),
  /** S3-compatible object storage for blobs (scale-out); unset = the local blob directory. */
  s3: z
    .strictObject({
      endpoint: z.url(),
      region: z.string().min(1).default('ap-northeast-1'),
      bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name'),
      /** Object key prefix inside the bucket (for a shared bucket). */
      prefix: z
        .string()
        .regex(/^([a-z0-9-]+\/)*$/, 'lower-case segments ending in /')
        .default(''),
      /** Path-style URLs (`endpoint/bucket/key`), needed by Ceph RGW and MinIO without wildcard DNS. */
      forcePathStyle: z.boolean().default(true),
      accessKeyId: z.string().min(1),
      /** File holding the secret access key (never in the config itself). */
      secretAccessKeyFile: z.string().min(1),
      /** Part size of multipart uploads. */
      partBytes: z.coerce
        .number()
        .int()
        .min(5 * 1024 * 1024)
        .max(512 * 1024 * 1024)
        .default(16 * 1024 * 1024),
    })
    .optional(),
  /** Local directory for resumable-upload staging (ciphertext only); default `<dataDir>/staging`. */
  stagingDir: z.string().min(1).optional(),
  uploads: z
    .strictObject({
      /**
       * Largest file accepted (413 before any byte is stored). The default stays well under 2 GiB
       * because ClamAV cannot scan larger files (libclamav caps MaxFileSize just below 2 GiB): a file
       * it cannot scan never leaves `held` (MAL-01).
       */
      maxFileBytes: z.coerce.number().int().min(1).default(DEFAULT_MAX_FILE_BYTES),
      /** Hours an unfinished resumable upload is kept before its staging data is removed. */
      sessionTtlHours: z.coerce
        .number()
        .int()
        .min(1)
        .max(24 * 30)
        .default(24),
    })
    .default({ maxFileBytes: DEFAULT_MAX_FILE_BYTES, sessionTtlHours: 24 }),
  /**
   * The malware scanner (MAL-01, MAL-02): one clamd or a pool of them at `tcp://host:port` or
   * `unix:/path/to/clamd.sock` (scale-out); unset = the managed clamd Kura starts itself (embedded),
   * or, with `managed.enabled: false`, no scanner (files stay held).
   */
  scanner: z
    .strictObject({
      clamd: z
        .union([ClamdAddress, z.array(ClamdAddress).min(1).max(64)])
        .transform((v) => (Array.isArray(v) ? v : [v]))
        .optional(),
      timeoutMs: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
      managed: z
        .strictObject({
          enabled: z.boolean().default(true),
          binary: z.string().min(1).default('clamd'),
          /** Signature directory of the managed clamd (default <dataDir>/clamav/db). */
          databaseDir: z.string().min(1).optional(),
          /** Where signatures are copied from when databaseDir holds none (freshclam's directory). */
          seedFrom: z.array(z.string().min(1)).default(['/var/lib/clamav']),
        })
        .default({ enabled: true, binary: 'clamd', seedFrom: ['/var/lib/clamav'] }),
      /** Alert (fault event, metric) when the signatures are older than this (MAL-02: 24 h). */
      signatureMaxAgeHours: z.coerce
        .number()
        .min(1)
        .max(24 * 30)
        .default(24),
    })
    .default({
      timeoutMs: 300_000,
      managed: { enabled: true, binary: 'clamd', seedFrom: ['/var/lib/clamav'] },
      signatureMaxAgeHours: 24,
    }),
  /**
   * 無害化 (MAL-07): the OOXML and PDF engines rebuild each file on a thread of its own, bounded in
   * wall-clock time and JavaScript heap; a file past either fails as `limit` and is held for review.
   */
  sanitize: z
    .strictObject({
      timeoutMs: z.coerce.number().int().min(1000).max(3_600_000).default(600_000),
      heapMb: z.coerce.number().int().min(64).max(16_384).default(1024),
    })
    .default({ timeoutMs: 600_000, heapMb: 1024 }),
  checkpointDir: z.string().min(1).optional(),
  masterKeyFile: z.string().min(1).optional(),
  locations: z.array(Location).default([]),
  limits: z
    .strictObject({
      /** Largest JSON body accepted by the API (file bodies stream separately). */
      jsonBodyBytes: z.coerce
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024)
        .default(1024 * 1024),
      /** Requests per minute per client address before 429. */
      requestsPerMinute: z.coerce.number().int().min(10).max(1_000_000).default(1200),
      /** Sign-in attempts (password, second factor, setup, step-up) per minute per client address: slows password spraying. */
      authAttemptsPerMinute: z.coerce.number().int().min(3).max(100_000).default(120),
    })
    .default({ jsonBodyBytes: 1024 * 1024, requestsPerMinute: 1200, authAttemptsPerMinute: 120 }),
  /**
   * Outgoing mail (TLS-04): SMTP with implicit TLS (`secure`, port 465) or STARTTLS required
   * (`requireTLS`, port 587); certificates verified. Unset = mails wait in the admin-visible outbox.
   */
  mail: z
    .strictObject({
      from: z.string().min(3).default('Kura <no-reply@localhost>'),
      smtp: z
        .strictObject({
          host: z.string().min(1),
          port: z.coerce.number().int().min(1).max(65535).default(587),
          secure: z.coerce.boolean().default(false),
          requireTLS: z.coerce.boolean().default(true),
          user: z.string().min(1).optional(),
          passwordFile: z.string().min(1).optional(),
          /** PEM file of a private CA the SMTP server's certificate chains to. */
          caFile: z.string().min(1).optional(),
        })
        .refine((smtp) => !smtp.user || smtp.passwordFile, 'mail.smtp.passwordFile is needed with mail.smtp.user')
        .optional(),
    })
    .default({ from: 'Kura <no-reply@localhost>' }),
  jobs: z
    .strictObject({ enabled: z.boolean().default(true), pollMs: z.coerce.number().int().min(50).max(60_000).default(1000) })
    .default({ enabled: true, pollMs: 1000 }),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type KuraConfig = z.infer<typeof ConfigSchema>;

const LenientLocations = z
  .array(z.object({ name: z.unknown(), kind: z.unknown(), country: z.unknown() }).partial().catch({}))
  .catch([]);
const LenientZone = z
  .object({ port: z.unknown(), host: z.unknown(), certFile: z.unknown(), keyFile: z.unknown() })
  .partial()
  .catch({});

/**
 * Rules across fields, checked on the raw input even when other fields are invalid, so one run
 * reports every problem (zod skips object refinements once a field has failed).
 */
export function crossFieldProblems(raw: { locations?: unknown; zones?: { lgwan?: unknown; internet?: unknown } }): string[] {
  const problems: string[] = [];
  const locations = LenientLocations.parse(raw.locations ?? []);
  // FAC-01: every place that holds customer data is in Japan, and every place in use is declared.
  locations.forEach((loc, i) => {
    if (loc.country !== undefined && loc.country !== 'JP') {
      problems.push(
        `locations.${i}.country: data location "${String(loc.name)}" (${String(loc.kind)}) is in ${String(loc.country)}; LGWAN-ASP data must stay in Japan (FAC-01)`,
      );
    }
  });
  for (const kind of REQUIRED_LOCATION_KINDS) {
    if (!locations.some((l) => l.kind === kind)) {
      problems.push(
        `locations: no data location of kind "${kind}" is declared; run \`kura init --region …\` or add it to kura.yaml (FAC-01)`,
      );
    }
  }
  const lgwan = LenientZone.parse(raw.zones?.lgwan ?? {});
  const internet = LenientZone.parse(raw.zones?.internet ?? {});
  if (Number(lgwan.port) !== 0 && String(lgwan.port) === String(internet.port) && lgwan.host === internet.host) {
    problems.push('zones: the LGWAN and internet zones need separate listeners (LG-01)');
  }
  for (const [name, zc] of [
    ['lgwan', lgwan],
    ['internet', internet],
  ] as const) {
    if (Boolean(zc.certFile) !== Boolean(zc.keyFile)) problems.push(`zones.${name}: certFile and keyFile go together`);
  }
  return problems;
}
