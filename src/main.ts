#!/usr/bin/env node
/**
 * The `kura` command line (design §9): serve, init, migrate, tenant, audit. Every command has
 * --help; failures print one clear message and exit non-zero (1 = failed check or operation,
 * 2 = configuration or usage problem).
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Command, CommanderError } from 'commander';
import pino from 'pino';
import { createFirstTenant, createUserWithLink, openKura, writeDefaultConfig, type OpenedKura } from './app/bootstrap.js';
import { TENANT_ROLES, type TenantRole } from './tenants/tenant-settings.js';
import { startWorker } from './app/services.js';
import { ConfigError, configPath, loadConfig } from './config/load-config.js';
import { AppError } from './core/errors.js';
import { verifyExport } from './audit/export-verify.js';
import { SYSTEM_TENANT_ID, SYSTEM_TENANT_SLUG, systemActor } from './core/types.js';
import { MasterKeyError } from './crypto/key-provider.js';
import { listenZones } from './http/listen.js';
import { ZodError } from 'zod';

const env = process.env;
const cwd = process.cwd();
const out = (line = '') => process.stdout.write(`${line}\n`);

class ExitError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

function cliLogger(level = 'warn') {
  return pino({ level }, pino.destination(2));
}

async function open(create = false, logLevel?: string): Promise<OpenedKura> {
  const config = loadConfig(env, cwd);
  return openKura(config, { create, logger: cliLogger(logLevel ?? (config.logLevel === 'info' ? 'warn' : config.logLevel)) });
}

const DEFAULT_REGION = env.KURA_REGION ?? '未設定 (unspecified: set with kura init --region)';
const DEFAULT_FACILITY = env.KURA_FACILITY ?? 'this server';
const FIRST_TENANT_SLUG = env.KURA_FIRST_TENANT_SLUG ?? 'demo-city';
const FIRST_TENANT_NAME = env.KURA_FIRST_TENANT_NAME ?? 'デモ市';

const program = new Command()
  .name('kura')
  .description('Kura (蔵): secure file storage and exchange for Japanese local governments')
  .version('0.1.0')
  .showHelpAfterError()
  .exitOverride();

program
  .command('serve')
  .description('start both zone listeners (LGWAN and internet) and the job worker; initialises a fresh machine')
  .action(async () => {
    const fresh = !existsSync(configPath(env, cwd));
    if (fresh) {
      const written = writeDefaultConfig(env, cwd, { region: DEFAULT_REGION, facility: DEFAULT_FACILITY });
      if (written) out(`初期設定ファイルを作成しました / wrote ${written} (data locations declared in JP)`);
    }
    const config = loadConfig(env, cwd);
    const logger = pino({ level: config.logLevel });
    const { services, created } = await openKura(config, { create: fresh || !existsSync(config.paths.masterKey), logger });
    if (created.masterKey)
      out(`マスター鍵を作成しました / created master key ${config.paths.masterKey} (mode 0600): back it up separately`);
    let first: Awaited<ReturnType<typeof createFirstTenant>> | null = null;
    if ((await services.tenants.list()).length === 0) {
      first = await createFirstTenant(services, { slug: FIRST_TENANT_SLUG, name: FIRST_TENANT_NAME, adminLogin: 'admin' });
    }
    // The managed clamd (embedded mode) loads its signatures while the listeners start.
    const supervisor = services.clamdSupervisor;
    const clamdStarting = supervisor?.start();
    const listeners = await listenZones(services);
    const worker = config.jobs.enabled ? await startWorker(services, `${process.pid}`) : null;
    // One write, so whoever waits for the banner gets all of it.
    const tenants = await services.tenants.list();
    if (clamdStarting) await Promise.race([clamdStarting, new Promise((r) => setTimeout(r, 15_000).unref())]);
    const managed = supervisor?.status();
    const where = managed ? `managed, ${managed.socket}` : (config.scanner.clamd ?? []).join(', ');
    const scanner = await Promise.race([
      managed?.state === 'unavailable'
        ? Promise.resolve(`  ウイルス検査エンジンを起動できません / managed clamd unavailable: ${managed.problem}`)
        : managed?.state === 'starting'
          ? Promise.resolve(
              `  ウイルス検査エンジンを起動中です / managed clamd is loading its signatures (pid ${managed.pid}); uploads stay held until it answers`,
            )
          : services.scanner.version().then(
              (v) => `  ウイルス検査 / malware scanner: ${services.scanner.engine} ${where} (${v})`,
              (err: Error) =>
                `  ウイルス検査エンジンに接続できません / malware scanner unavailable (${err.message.slice(0, 80)}): uploads stay held (ウイルス検査待ち) until it answers; set KURA_CLAMD=tcp://host:port or unix:/path`,
            ),
      new Promise<string>((r) =>
        setTimeout(
          () => r('  ウイルス検査エンジンの応答がありません / malware scanner does not answer: uploads stay held'),
          3000,
        ).unref(),
      ),
    ]);
    const banner = [
      '',
      'Kura (蔵) is running / 起動しました',
      ...listeners.map(
        (l) =>
          `  ${l.zone === 'lgwan' ? 'LGWAN 系    ' : 'インターネット系'} ${l.url}${l.selfSigned ? '  (自己署名証明書 / self-signed certificate)' : ''}`,
      ),
      ...(listeners.some((l) => l.generatedCertificate)
        ? [
            `  自己署名証明書を生成しました / generated self-signed certificates in ${config.paths.certs}; configure real ones for production`,
          ]
        : []),
      scanner,
      config.mail.smtp
        ? `  メール送信 / mail: SMTP ${config.mail.smtp.host}:${config.mail.smtp.port} (${config.mail.smtp.secure ? 'TLS' : 'STARTTLS required'})`
        : '  メール送信は未設定です / mail is not configured: mails wait in the admin outbox (set mail.smtp or KURA_SMTP_HOST)',
      tenants.length
        ? `  tenants: ${tenants.map((t) => `${t.slug} (${t.displayName})`).join(', ')}`
        : '  テナントがありません / no tenant yet: kura tenant create --slug SLUG --name NAME',
      ...(first
        ? [
            '',
            `  初期管理者の設定 / first administrator of ${first.displayName} (${first.slug}):`,
            `    テナント / tenant: ${first.slug}   ログインID / login ID: admin`,
            `    次のリンクを 72 時間以内に開き、パスワードと二要素認証を設定してください / open within 72 hours to set a password and MFA:`,
            `    ${first.setupUrl}`,
          ]
        : []),
      '  status page / 稼働状況: open either URL in a browser; health: /healthz, readiness: /readyz',
    ];
    out(banner.join('\n'));
    const stop = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await worker?.stop();
      await Promise.all(listeners.map((l) => l.app.close()));
      await supervisor?.stop();
      await services.database.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
  });

program
  .command('init')
  .description('create kura.yaml (locations in Japan), the data directory, the master key and the database')
  .option('--region <region>', 'region of this installation, e.g. 東京都 or Osaka (FAC-01)', DEFAULT_REGION)
  .option('--facility <facility>', 'data centre or facility name', DEFAULT_FACILITY)
  .option('--tenant-slug <slug>', 'also create a first tenant with this slug')
  .option('--tenant-name <name>', 'display name of the first tenant (e.g. 〇〇市)')
  .option('--admin-login <id>', 'login ID of the first tenant administrator', 'admin')
  .action(async (o: { region: string; facility: string; tenantSlug?: string; tenantName?: string; adminLogin: string }) => {
    const written = writeDefaultConfig(env, cwd, { region: o.region, facility: o.facility });
    out(written ? `wrote ${written}` : `using existing ${configPath(env, cwd)}`);
    const { services, created } = await open(true);
    try {
      const c = services.config;
      out(
        created.masterKey
          ? `created master key ${c.paths.masterKey} (mode 0600); back it up separately`
          : `master key ${c.paths.masterKey} present`,
      );
      out(
        created.database
          ? `initialised database: ${services.database.description}`
          : `database already initialised: ${services.database.description}`,
      );
      if (o.tenantSlug) {
        const t = await services.tenants.create(systemActor(SYSTEM_TENANT_ID, 'cli:init'), {
          slug: o.tenantSlug,
          displayName: o.tenantName ?? o.tenantSlug,
        });
        out(`created tenant ${t.slug} (${t.displayName}) id ${t.id}`);
        const link = await createUserWithLink(
          services,
          t.id,
          { loginId: o.adminLogin, displayName: '管理者', role: 'tenant_admin' },
          'cli:init',
        );
        out(`first administrator "${o.adminLogin}": open within 72 hours to set a password and MFA:`);
        out(`  ${link}`);
      }
    } finally {
      await services.database.close();
    }
  });

program
  .command('migrate')
  .description('apply pending database migrations (also done at every start)')
  .action(async () => {
    const { services } = await open(false);
    out(`database is up to date: ${services.database.description}`);
    await services.database.close();
  });

const tenant = program.command('tenant').description('manage tenants (自治体)');
tenant
  .command('create')
  .description('create a tenant with its own key and audit chain')
  .requiredOption('--slug <slug>', 'short identifier, e.g. sample-city')
  .requiredOption('--name <name>', 'display name, e.g. サンプル市')
  .action(async (o: { slug: string; name: string }) => {
    const { services } = await open();
    try {
      const t = await services.tenants.create(systemActor(SYSTEM_TENANT_ID, 'cli'), { slug: o.slug, displayName: o.name });
      out(`created tenant ${t.slug} (${t.displayName}) id ${t.id}`);
    } finally {
      await services.database.close();
    }
  });
tenant
  .command('list')
  .description('list tenants')
  .option('--json', 'print JSON')
  .action(async (o: { json?: boolean }) => {
    const { services } = await open();
    try {
      const list = await services.tenants.list();
      if (o.json) out(JSON.stringify(list, null, 2));
      else if (list.length === 0) out('no tenants');
      else for (const t of list) out(`${t.slug}\t${t.displayName}\t${t.status}\t${t.id}\t${t.createdAt}`);
    } finally {
      await services.database.close();
    }
  });

const user = program.command('user').description('manage users of a tenant');
user
  .command('create')
  .description('create an active user and print a one-time setup link (valid 72 hours)')
  .requiredOption('--tenant <slug>', 'tenant slug')
  .requiredOption('--login <id>', 'login ID (letters, digits and . _ @ -)')
  .requiredOption('--role <role>', `one of ${TENANT_ROLES.join(', ')}`)
  .option('--name <name>', 'display name (default: the login ID)')
  .option('--email <email>', 'e-mail address')
  .action(async (o: { tenant: string; login: string; role: string; name?: string; email?: string }) => {
    if (!TENANT_ROLES.includes(o.role as TenantRole)) throw new ExitError(`--role must be one of ${TENANT_ROLES.join(', ')}`, 2);
    const { services } = await open();
    try {
      const t = await services.tenants.requireBySlug(o.tenant);
      const link = await createUserWithLink(
        services,
        t.id,
        { loginId: o.login, displayName: o.name ?? o.login, role: o.role as TenantRole, email: o.email },
        'cli',
      );
      out(`created user ${o.login} (${o.role}) in ${t.slug}; setup link (valid 72 hours, single use):`);
      out(`  ${link}`);
    } finally {
      await services.database.close();
    }
  });

program
  .command('operator')
  .description('provider operators (事業者運用者): no access to tenant data without a tenant-approved grant')
  .command('create')
  .description('create an operator in the system tenant and print a one-time setup link (valid 72 hours)')
  .requiredOption('--login <id>', 'login ID')
  .option('--name <name>', 'display name (default: the login ID)')
  .option('--email <email>', 'e-mail address')
  .action(async (o: { login: string; name?: string; email?: string }) => {
    const { services } = await open();
    try {
      const link = await createUserWithLink(
        services,
        SYSTEM_TENANT_ID,
        { loginId: o.login, displayName: o.name ?? o.login, role: 'operator', email: o.email },
        'cli',
      );
      out(`created operator ${o.login}; sign in with tenant "system"; setup link (valid 72 hours, single use):`);
      out(`  ${link}`);
    } finally {
      await services.database.close();
    }
  });

const keys = program.command('keys').description('tenant encryption keys (ENC-03)');
keys
  .command('rotate')
  .description("create a new key-encryption key for a tenant; a background job re-wraps every file's data key")
  .requiredOption('--tenant <slug>', 'tenant slug')
  .option('--wait', 're-wrap now in this process instead of leaving it to the job worker')
  .action(async (o: { tenant: string; wait?: boolean }) => {
    const { services } = await open();
    try {
      const t = await services.tenants.requireBySlug(o.tenant);
      const version = await services.keyRotation.rotate(systemActor(t.id, 'cli'), t.id);
      out(`tenant ${t.slug}: key version ${version} is active`);
      if (o.wait) out(`re-wrapped ${await services.keyRotation.rewrap(t.id)} data keys`);
      const status = await services.keyRotation.status(t.id);
      const pending = status.pendingBlobs + status.pendingSecrets;
      out(
        `keys still under older versions: ${status.pendingBlobs} data keys, ${status.pendingSecrets} other secrets${pending ? ' (the re-wrap job moves them)' : ''}`,
      );
    } finally {
      await services.database.close();
    }
  });
keys
  .command('destroy')
  .description(
    'destroy a retired key version for good (its wrapped key is erased); refused while anything is still wrapped under an older version than the active one',
  )
  .requiredOption('--tenant <slug>', 'tenant slug')
  .requiredOption('--key-version <n>', 'the retired version to destroy')
  .option('--yes', 'confirm: the key cannot be recovered afterwards')
  .action(async (o: { tenant: string; keyVersion: string; yes?: boolean }) => {
    if (!o.yes) throw new ExitError('destroying a key version cannot be undone; add --yes to confirm', 2);
    const { services } = await open();
    try {
      const t = await services.tenants.requireBySlug(o.tenant);
      const version = Number(o.keyVersion);
      if (!Number.isInteger(version) || version < 1) throw new AppError('request.invalid', `--key-version ${o.keyVersion}`);
      await services.keyRotation.destroy(systemActor(t.id, 'cli'), t.id, version);
      out(`tenant ${t.slug}: key version ${version} destroyed`);
    } finally {
      await services.database.close();
    }
  });
keys
  .command('status')
  .description('show key versions of a tenant and how many data keys and other secrets wait for re-wrapping')
  .requiredOption('--tenant <slug>', 'tenant slug')
  .option('--json', 'print JSON')
  .action(async (o: { tenant: string; json?: boolean }) => {
    const { services } = await open();
    try {
      const t = await services.tenants.requireBySlug(o.tenant);
      const status = await services.keyRotation.status(t.id);
      if (o.json) out(JSON.stringify(status, null, 2));
      else {
        for (const v of status.versions) out(`v${v.version}\t${v.state}\t${v.createdAt}`);
        out(
          `pending re-wrap: ${status.pendingBlobs} data keys, ${status.pendingSecrets} other secrets (TOTP, unfinished uploads)`,
        );
      }
    } finally {
      await services.database.close();
    }
  });

const audit = program.command('audit').description('audit log operations');
audit
  .command('verify')
  .description('recompute hash chains, Merkle roots and checkpoint signatures; exit 1 naming the first bad seq')
  .option('--tenant <slug>', 'only this tenant (slug, or "system")')
  .option('--json', 'print JSON results')
  .action(async (o: { tenant?: string; json?: boolean }) => {
    const { services } = await open();
    try {
      const all = await services.tenants.list();
      const targets = o.tenant
        ? [
            o.tenant === SYSTEM_TENANT_SLUG
              ? { id: SYSTEM_TENANT_ID, slug: SYSTEM_TENANT_SLUG }
              : await services.tenants.requireBySlug(o.tenant),
          ]
        : [{ id: SYSTEM_TENANT_ID, slug: SYSTEM_TENANT_SLUG }, ...all];
      const results = [];
      for (const t of targets) results.push({ slug: t.slug, ...(await services.auditVerify.verifyTenant(t.id)) });
      if (o.json) out(JSON.stringify(results, null, 2));
      else {
        for (const r of results) {
          if (r.ok)
            out(`OK    ${r.slug}: ${r.events} events, ${r.checkpoints} checkpoints (last covers ${r.lastCheckpointSize})`);
          else {
            out(`FAIL  ${r.slug} (${r.tenantId}): first bad seq ${r.firstBadSeq ?? 'unknown'}`);
            for (const p of r.problems) out(`        - ${p}`);
          }
        }
      }
      const failed = results.filter((r) => !r.ok);
      if (failed.length) throw new ExitError(`audit verification failed for ${failed.map((r) => r.slug).join(', ')}`, 1);
      if (!o.json) out(`verified ${results.length} tenant chain(s)`);
    } finally {
      await services.database.close();
    }
  });
audit
  .command('verify-export')
  .description(
    'verify a JSONL audit export offline (chain, Merkle roots, checkpoint signatures, completeness up to its head); needs no database; exit 1 naming the first bad seq',
  )
  .argument('<file>', 'the .jsonl file exported from the 監査ログ page or GET /api/v1/audit/export?format=jsonl')
  .option(
    '--key-id <id...>',
    'the signing key id shown on the 監査ログ page (署名鍵 ID); only a file sealed by it passes. Without it, compare the printed key id yourself',
  )
  .option('--json', 'print the JSON result')
  .action(async (file: string, o: { json?: boolean; keyId?: string[] }) => {
    if (!existsSync(file)) throw new ExitError(`${file}: no such file`, 2);
    const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity });
    const r = await verifyExport(lines, o.keyId ?? []);
    if (o.json) out(JSON.stringify(r, null, 2));
    else if (r.ok) {
      out(
        `OK    ${r.tenantId}: ${r.events} events, ${r.checkpoints} checkpoints (last covers ${r.lastCheckpointSize}), sealed by key ${r.sealKeyId}`,
      );
      if (r.trusted === null)
        out(`      compare ${r.sealKeyId} with the 署名鍵 ID on the 監査ログ page, or pass it as --key-id to check it here`);
    } else {
      out(`FAIL  ${r.tenantId || file}: first bad seq ${r.firstBadSeq ?? 'unknown'}`);
      for (const p of r.problems) out(`        - ${p}`);
    }
    if (!r.ok) throw new ExitError('audit export verification failed', 1);
  });
audit
  .command('checkpoint')
  .description('write a signed checkpoint for every tenant now (the job does this every 5 minutes)')
  .action(async () => {
    const { services } = await open();
    try {
      out(`wrote ${await services.checkpoints.checkpointAll()} checkpoint(s) to ${services.checkpointStore.description}`);
    } finally {
      await services.database.close();
    }
  });

function exitCodeFor(err: unknown): { code: number; message: string } {
  if (err instanceof ExitError) return { code: err.exitCode, message: err.message };
  if (err instanceof ConfigError) return { code: 2, message: err.message };
  if (err instanceof MasterKeyError) return { code: 2, message: err.message };
  if (err instanceof ZodError)
    return { code: 2, message: `invalid input: ${err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  if (err instanceof AppError) return { code: 1, message: `${err.code}${err.detail ? `: ${err.detail}` : ''}` };
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'EADDRINUSE') return { code: 1, message: `port in use: ${e.message}` };
  return { code: 1, message: e instanceof Error ? `${e.name}: ${e.message}` : String(err) };
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  const { code, message } = exitCodeFor(err);
  process.stderr.write(`kura: ${message}\n`);
  process.exit(code);
}
