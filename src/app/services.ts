/**
 * The composition root (design §2): the only place that knows concrete classes. Everything else
 * receives its dependencies through a `deps` object.
 */
import type { Transaction } from 'kysely';
import pino, { type Logger } from 'pino';
import { join } from 'node:path';
import { AuditLog } from '../audit/audit-log.js';
import { AuditRepository } from '../audit/audit.repository.js';
import { AuditVerifyService } from '../audit/audit-verify.service.js';
import { AuditQueryService } from '../audit/audit-query.service.js';
import { AuditReviewRepository } from '../audit/audit-review.repository.js';
import { AuditReviewService } from '../audit/audit-review.service.js';
import { CheckpointService, CHECKPOINT_INTERVAL_MS } from '../audit/checkpoint.service.js';
import { DirectoryCheckpointStore, type CheckpointStore } from '../audit/checkpoint-store.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { systemClock, type Clock } from '../core/clock.js';
import type { KeyProvider } from '../crypto/key-provider.js';
import { TenantKeyring } from '../crypto/keyring.js';
import { loadOrCreateServiceKeys, type ServiceKeys } from '../crypto/service-keys.js';
import type { Database } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { ServiceKeyRepository } from '../db/service-key.repository.js';
import { JobQueue } from '../jobs/job-queue.js';
import { Scheduler } from '../jobs/scheduler.js';
import { Worker, type JobHandler } from '../jobs/worker.js';
import { createMetrics, type Metrics } from '../monitoring/metrics.js';
import { ReadinessService } from '../monitoring/readiness.service.js';
import { StatusService } from '../monitoring/status.service.js';
import { TenantKeyRepository } from '../tenants/tenant-key.repository.js';
import { TenantRepository, type Tenant } from '../tenants/tenant.repository.js';
import { TenantService } from '../tenants/tenant.service.js';
import { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import { AuthService } from '../identity/auth.service.js';
import { MfaRepository } from '../identity/mfa.repository.js';
import { SessionRepository } from '../identity/session.repository.js';
import { SessionService } from '../identity/session.service.js';
import { UserAdminService } from '../identity/user-admin.service.js';
import { UserRepository } from '../identity/user.repository.js';
import { AuthPolicyService } from '../identity/auth-policy.service.js';
import { ApiTokenRepository } from '../identity/api-token.repository.js';
import { ApiTokenService } from '../identity/api-token.service.js';
import { AccessReviewRepository } from '../identity/access-review.repository.js';
import { SupportGrantService } from '../identity/support-grant.service.js';
import { WebAuthnService } from '../identity/webauthn.service.js';
import { AccessReviewService, REVIEW_PERIOD_DAYS } from '../identity/access-review.service.js';
import type { Zone } from '../core/types.js';
import { readFileSync } from 'node:fs';
import type { BlobStore } from '../storage/blob-store.js';
import { FsBlobStore } from '../storage/fs-blob-store.js';
import type { Scanner } from '../malware/scanner.js';
import { NoScanner } from '../malware/scanner.js';
import { ClamdScanner } from '../malware/clamd-scanner.js';
import { ClamdSupervisor } from '../malware/clamd-supervisor.js';
import { ScannerPool } from '../malware/scanner-pool.js';
import { MalwareApprovalRepository } from '../malware/approval.repository.js';
import { QuarantineService } from '../malware/quarantine.service.js';
import { RESCAN_JOB, SignatureMonitor } from '../malware/signature-monitor.service.js';
import { NotificationRepository } from '../notifications/notification.repository.js';
import { MAIL_JOB, MailService } from '../mail/mail.service.js';
import { createMailTransport } from '../mail/mail-transport.js';
import { defaultSanitizers } from '../sanitize/index.js';
import { SanitizeService } from '../sanitize/sanitize.service.js';
import { SANITIZE_JOB, ScanGate } from '../malware/scan-gate.service.js';
import { BlobVault } from '../files/blob-vault.js';
import { FileAccess } from '../files/file-access.js';
import { FileRepository } from '../files/file.repository.js';
import { FolderRepository } from '../files/folder.repository.js';
import { UploadRepository } from '../files/upload.repository.js';
import { FolderService } from '../files/folder.service.js';
import { FileService, SCAN_JOB } from '../files/file.service.js';
import { TrashService } from '../files/trash.service.js';
import { RecoveryService } from '../files/recovery.service.js';
import { UploadService } from '../files/upload.service.js';
import { Scrubber } from '../files/scrubber.service.js';
import { KeyRotationService, REWRAP_JOB } from '../files/key-rotation.service.js';
import { GroupService } from '../identity/group.service.js';
import type { TenantId } from '../core/types.js';
import { ExchangeRepository } from '../exchange/exchange.repository.js';
import { RequestService } from '../exchange/request.service.js';
import { ShareService, type LabelSource } from '../exchange/share.service.js';
import { EXCHANGE_HOUSEKEEPING_JOB, ExchangeRetention } from '../exchange/retention.service.js';
import { LabelService, PII_JOB } from '../labels/label.service.js';

export interface Services {
  config: ResolvedConfig;
  clock: Clock;
  logger: Logger;
  database: Database;
  keyProvider: KeyProvider;
  serviceKeys: ServiceKeys;
  keyring: TenantKeyring<Transaction<DB>>;
  auditRepository: AuditRepository;
  audit: AuditLog;
  checkpointStore: CheckpointStore;
  checkpoints: CheckpointService;
  auditVerify: AuditVerifyService;
  auditQuery: AuditQueryService;
  auditReviews: AuditReviewService;
  tenants: TenantService;
  tenantRepository: TenantRepository;
  tenantPolicy: TenantPolicyService;
  userRepository: UserRepository;
  sessionService: SessionService;
  auth: AuthService;
  userAdmin: UserAdminService;
  authPolicy: AuthPolicyService;
  apiTokens: ApiTokenService;
  accessReviews: AccessReviewService;
  supportGrants: SupportGrantService;
  webauthn: WebAuthnService;
  groups: GroupService;
  blobStore: BlobStore;
  vault: BlobVault;
  scanner: Scanner;
  /** The clamd Kura runs itself in embedded mode (`serve` starts it), or null. */
  clamdSupervisor: ClamdSupervisor | null;
  scanGate: ScanGate;
  sanitizer: SanitizeService;
  quarantine: QuarantineService;
  recovery: RecoveryService;
  signatures: SignatureMonitor;
  mail: MailService;
  notifications: NotificationRepository;
  folders: FolderService;
  files: FileService;
  trash: TrashService;
  uploads: UploadService;
  scrubber: Scrubber;
  keyRotation: KeyRotationService;
  requests: RequestService;
  shares: ShareService;
  /** Classification labels and the personal-data check (PII-01, PII-02). */
  labels: LabelService;
  exchangeRetention: ExchangeRetention;
  /** Base URL of a zone for links (configured publicUrl, else https://localhost:port). */
  publicBaseUrl: (zone: Zone) => string;
  jobs: JobQueue;
  scheduler: Scheduler;
  readiness: ReadinessService;
  status: StatusService;
  metrics: Metrics;
  /** Job handlers by kind; capabilities add theirs here. */
  jobHandlers: Record<string, JobHandler>;
}

export interface CreateServicesOptions {
  clock?: Clock;
  logger?: Logger;
  /** Tests: a particular blob store or scanner instead of the configured one. */
  blobStore?: BlobStore;
  scanner?: Scanner;
}

/**
 * The configured blob store: S3-compatible object storage when `s3` is set, else the local directory.
 * The AWS SDK is loaded only for S3 (it would cost the embedded mode several MB of memory).
 */
export async function createBlobStore(config: ResolvedConfig): Promise<BlobStore> {
  if (!config.s3) return new FsBlobStore(config.paths.blobs);
  const { secretAccessKeyFile, ...s3 } = config.s3;
  const { S3BlobStore } = await import('../storage/s3-blob-store.js');
  return new S3BlobStore({ ...s3, secretAccessKey: readFileSync(secretAccessKeyFile, 'utf8').trim() });
}

/**
 * The malware scanner (MAL-02): the configured clamd (one, or a pool for scale-out); without one, the
 * clamd Kura manages itself (embedded mode; `serve` starts it through `clamdSupervisor`); with
 * management off, none (files stay held).
 */
function createScanner(
  config: ResolvedConfig,
  opts: CreateServicesOptions,
  logger: Logger,
): { scanner: Scanner; clamdSupervisor: ClamdSupervisor | null } {
  if (opts.scanner) return { scanner: opts.scanner, clamdSupervisor: null };
  const { clamd, timeoutMs, managed } = config.scanner;
  if (clamd?.length === 1) return { scanner: new ClamdScanner(clamd[0]!, { timeoutMs }), clamdSupervisor: null };
  if (clamd?.length)
    return { scanner: new ScannerPool(clamd.map((a) => new ClamdScanner(a, { timeoutMs }))), clamdSupervisor: null };
  if (!managed.enabled) return { scanner: new NoScanner(), clamdSupervisor: null };
  const clamdSupervisor = new ClamdSupervisor({
    binary: managed.binary,
    dir: config.paths.clamav,
    databaseDir: managed.databaseDir ?? join(config.paths.clamav, 'db'),
    seedFrom: managed.seedFrom,
    maxFileBytes: config.uploads.maxFileBytes,
    ping: (socket) => new ClamdScanner(`unix:${socket}`, { timeoutMs: 2000 }).ping(),
    onEvent: (e) => {
      if (e.type === 'exited') logger.warn({ clamd: e }, 'managed clamd exited; restarting');
      else if (e.type === 'started') logger.info({ clamd: e }, 'managed clamd is running');
      else logger.warn({ problem: e.problem }, 'managed clamd unavailable');
    },
  });
  return { scanner: new ClamdScanner(`unix:${clamdSupervisor.socket}`, { timeoutMs }), clamdSupervisor };
}

/** Periodic jobs every node registers; the schedule table makes each run once per period. */
export const SCHEDULES = [
  { name: 'audit.checkpoint', kind: 'audit.checkpoint', intervalMs: CHECKPOINT_INTERVAL_MS },
  { name: 'identity.inactive_accounts', kind: 'identity.inactive_accounts', intervalMs: 24 * 3_600_000 },
  { name: 'identity.access_review_due', kind: 'identity.access_review_due', intervalMs: 24 * 3_600_000 },
  { name: 'audit.review_due', kind: 'audit.review_due', intervalMs: 24 * 3_600_000 },
  { name: 'files.purge_trash', kind: 'files.purge_trash', intervalMs: 24 * 3_600_000 },
  { name: 'files.upload_cleanup', kind: 'files.upload_cleanup', intervalMs: 3_600_000 },
  { name: 'files.scrub', kind: 'files.scrub', intervalMs: 3_600_000 },
  { name: 'malware.signature_check', kind: 'malware.signature_check', intervalMs: 3_600_000 },
  { name: 'malware.rescan_due', kind: 'malware.rescan_due', intervalMs: 24 * 3_600_000 },
  { name: 'files.purge_originals', kind: 'files.purge_originals', intervalMs: 24 * 3_600_000 },
  { name: 'keys.rewrap_sweep', kind: 'keys.rewrap_sweep', intervalMs: 24 * 3_600_000 },
  { name: EXCHANGE_HOUSEKEEPING_JOB, kind: EXCHANGE_HOUSEKEEPING_JOB, intervalMs: 3_600_000 },
] as const;

export async function createServices(
  config: ResolvedConfig,
  database: Database,
  keyProvider: KeyProvider,
  opts: CreateServicesOptions = {},
): Promise<Services> {
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? pino({ level: config.logLevel });
  const now = () => clock.now();
  const serviceKeyRepo = new ServiceKeyRepository(database.db, now);
  const serviceKeys = await loadOrCreateServiceKeys(keyProvider, serviceKeyRepo);
  const tenantKeys = new TenantKeyRepository(database.db, now);
  const keyring = new TenantKeyring<Transaction<DB>>(keyProvider, tenantKeys);
  const auditRepository = new AuditRepository(database);
  const audit = new AuditLog({ audit: auditRepository, clock, macKey: serviceKeys.auditMacKey });
  const checkpointStore = new DirectoryCheckpointStore(config.paths.checkpoints);
  const tenantRepo = new TenantRepository(database.db);
  const tenants = new TenantService({ database, tenants: tenantRepo, keyring, audit, clock });
  const tenantPolicy = new TenantPolicyService({ database, tenants: tenantRepo, audit, clock });
  const userRepository = new UserRepository(database.db);
  const mfa = new MfaRepository(database.db);
  const sessions = new SessionRepository(database.db);
  const sessionService = new SessionService({ sessions, clock });
  const tokenRepo = new ApiTokenRepository(database.db);
  const auth = new AuthService({
    database,
    clock,
    audit,
    tenants: tenantRepo,
    policy: tenantPolicy,
    users: userRepository,
    mfa,
    sessions,
    sessionService,
    keyring,
    tokens: tokenRepo,
  });
  const late: { files?: FileService; folders?: FolderService } = {};
  const userAdmin = new UserAdminService({
    database,
    clock,
    audit,
    users: userRepository,
    mfa,
    sessions,
    tokens: tokenRepo,
    policy: tenantPolicy,
    departure: (trx, actor, userId, opts) => late.folders!.handOver(trx, actor, userId, opts),
  });
  const apiTokens = new ApiTokenService({ database, clock, audit, tokens: tokenRepo });
  const publicBaseUrl = (zone: Zone) => {
    const z = config.zones[zone];
    return (z.publicUrl ?? `https://localhost:${z.port}`).replace(/\/$/, '');
  };
  const webauthn = new WebAuthnService({
    database,
    clock,
    audit,
    mfa,
    sessions,
    auth,
    origin: (zone) => new URL(publicBaseUrl(zone)).origin,
  });
  const supportGrants = new SupportGrantService({ database, clock, audit, tenants: tenantRepo });
  const accessReviewRepo = new AccessReviewRepository(database.db);
  const accessReviews = new AccessReviewService({
    database,
    clock,
    audit,
    reviews: accessReviewRepo,
    users: userRepository,
    userAdmin,
  });
  const authPolicy = new AuthPolicyService({ database, clock, audit, auditRepository, policy: tenantPolicy });

  const checkpoints = new CheckpointService({
    database,
    audit: auditRepository,
    store: checkpointStore,
    signing: serviceKeys.signing,
    clock,
    tenantIds: () => tenantRepo.ids(),
    events: audit,
  });
  const auditVerify = new AuditVerifyService({
    audit: auditRepository,
    store: checkpointStore,
    macKey: serviceKeys.auditMacKey,
    publicKeys: () => serviceKeyRepo.publicKeys(),
  });
  const auditQuery = new AuditQueryService({
    database,
    clock,
    audit,
    repository: auditRepository,
    publicKeys: () => auditVerify.publicKeys(),
    signing: serviceKeys.signing,
  });
  const auditReviews = new AuditReviewService({
    database,
    clock,
    audit,
    reviews: new AuditReviewRepository(database),
    tenantCreatedAt: async (id) => (await tenantRepo.findById(id))?.createdAt ?? new Date(0).toISOString(),
  });
  const jobs = new JobQueue({ database, clock, audit });
  const scheduler = new Scheduler(database, jobs, clock);
  const groups = new GroupService({ database, clock, audit, users: userRepository });

  // Files (issue 4): one blob store, the vault over it, the scan gate, and the services.
  const blobStore = opts.blobStore ?? (await createBlobStore(config));
  const vault = new BlobVault({ store: blobStore, keyring });
  const { scanner, clamdSupervisor } = createScanner(config, opts, logger);
  const folderRepo = new FolderRepository(database.db);
  const fileRepo = new FileRepository(database.db);
  const uploadRepo = new UploadRepository(database.db);
  const approvals = new MalwareApprovalRepository(database.db);
  const fileAccess = new FileAccess({ folders: folderRepo, files: fileRepo });
  // FolderService and FileService use each other; the folder side reaches files lazily.
  const folders = new FolderService({
    database,
    clock,
    audit,
    folders: folderRepo,
    files: fileRepo,
    users: userRepository,
    access: fileAccess,
    fileService: () => late.files!,
  });
  const fileService = new FileService({
    database,
    clock,
    audit,
    folders: folderRepo,
    files: fileRepo,
    uploads: uploadRepo,
    users: userRepository,
    access: fileAccess,
    folderService: folders,
    vault,
    jobs,
    policy: tenantPolicy,
    maxFileBytes: config.uploads.maxFileBytes,
    originalApproved: (actor, versionId) =>
      actor.id ? approvals.originalApproved(actor.tenantId, versionId, actor.id) : Promise.resolve(false),
  });
  late.files = fileService;
  late.folders = folders;
  const trash = new TrashService({
    database,
    clock,
    audit,
    folders: folderRepo,
    files: fileRepo,
    access: fileAccess,
    vault,
    policy: tenantPolicy,
    users: userRepository,
  });
  const uploads = new UploadService({
    database,
    clock,
    audit,
    uploads: uploadRepo,
    files: fileService,
    vault,
    stagingDir: config.paths.staging,
    sessionTtlMs: config.uploads.sessionTtlHours * 3_600_000,
  });
  let signatures: SignatureMonitor | null = null;
  const metrics = createMetrics({
    jobDepth: () => jobs.depth(),
    scanBacklog: () => fileRepo.countAwaitingScan(),
    signatureAgeHours: () => signatures?.lastReading?.ageHours ?? null,
  });
  signatures = new SignatureMonitor({
    db: database.db,
    database,
    clock,
    audit,
    jobs,
    scanner,
    maxAgeHours: config.scanner.signatureMaxAgeHours,
  });
  const notifications = new NotificationRepository(database.db);
  const mail = new MailService({
    db: database.db,
    clock,
    audit,
    jobs,
    transport: await createMailTransport(config),
    from: config.mail.from,
    baseUrl: () => publicBaseUrl('lgwan'),
  });
  const scanGate = new ScanGate({
    database,
    clock,
    audit,
    files: fileRepo,
    vault,
    scanner,
    policy: tenantPolicy,
    jobs,
    notifications,
    users: userRepository,
    metrics: metrics.malware,
    mail,
    approvals,
  });
  const recovery = new RecoveryService({
    database,
    clock,
    audit,
    files: fileRepo,
    folders: folderRepo,
    access: fileAccess,
    folderService: folders,
    jobs,
  });
  const quarantine = new QuarantineService({
    db: database.db,
    database,
    clock,
    audit,
    files: fileRepo,
    access: fileAccess,
    vault,
    jobs,
    policy: tenantPolicy,
    approvals,
    notifications,
  });
  const sanitizer = new SanitizeService({
    database,
    clock,
    audit,
    files: fileRepo,
    vault,
    policy: tenantPolicy,
    notifications,
    engines: defaultSanitizers(config.sanitize),
    metrics: metrics.malware,
  });
  const scrubber = new Scrubber({ database, clock, audit, files: fileRepo, vault });
  const keyRotation = new KeyRotationService({
    database,
    clock,
    audit,
    keyring,
    files: fileRepo,
    mfa,
    uploads: uploadRepo,
    jobs,
    keys: tenantKeys,
  });

  // File exchange with outside parties (issue 6).
  const exchangeRepo = new ExchangeRepository(database.db);
  const labels = new LabelService({
    database,
    clock,
    audit,
    files: fileRepo,
    folders: folderRepo,
    access: fileAccess,
    policy: tenantPolicy,
    notifications,
    jobs,
    vault,
  });
  const labelSource: LabelSource = labels;
  const requests = new RequestService({
    database,
    clock,
    audit,
    exchange: exchangeRepo,
    files: fileService,
    fileRepo,
    folders,
    users: userRepository,
    tenants: tenantRepo,
    policy: tenantPolicy,
    mail,
    notifications,
    publicBaseUrl,
    maxFileBytes: config.uploads.maxFileBytes,
  });
  const shares = new ShareService({
    database,
    clock,
    audit,
    exchange: exchangeRepo,
    files: fileService,
    fileRepo,
    folderRepo,
    access: fileAccess,
    users: userRepository,
    tenants: tenantRepo,
    policy: tenantPolicy,
    mail,
    notifications,
    labels: labelSource,
    publicBaseUrl,
    recheck: (tenantId, versionId) => scanGate.rescanVersion(tenantId, versionId),
  });
  const exchangeRetention = new ExchangeRetention({
    database,
    clock,
    audit,
    exchange: exchangeRepo,
    fileRepo,
    users: userRepository,
    policy: tenantPolicy,
    mail,
    notifications,
  });

  const readiness = new ReadinessService({
    database,
    blobs: blobStore,
    checkpoints: checkpointStore,
    scanner,
    scannerState: clamdSupervisor ? () => clamdSupervisor.status().state : undefined,
  });
  const status = new StatusService({ readiness, clock });
  /**
   * Runs a daily job's work for every tenant: one tenant's failure does not keep the others from
   * theirs; the job still fails at the end (so it is retried and its failure audited).
   */
  const eachTenant = async (job: string, work: (t: Tenant) => Promise<unknown>): Promise<void> => {
    const failed: string[] = [];
    for (const t of await tenants.list()) {
      try {
        await work(t);
      } catch (err) {
        failed.push(t.slug);
        logger.error({ job, tenant: t.slug, err }, 'job failed for one tenant');
      }
    }
    if (failed.length) throw new Error(`${job} failed for ${failed.length} tenant(s): ${failed.join(', ')}`);
  };
  const jobHandlers: Record<string, JobHandler> = {
    'audit.checkpoint': async () => {
      await checkpoints.checkpointAll();
    },
    'identity.inactive_accounts': async () => {
      await eachTenant('identity.inactive_accounts', (t) => userAdmin.suspendInactive(t.id));
    },
    // Quarterly access review (AC-04): opens a review for every tenant whose last one is older than the period.
    'identity.access_review_due': async () => {
      const cutoff = new Date(clock.now().getTime() - REVIEW_PERIOD_DAYS * 86_400_000).toISOString();
      await eachTenant('identity.access_review_due', async (t) => {
        const [last] = await accessReviewRepo.list(t.id);
        // The first review is due one period after the tenant was created, then one period after each review.
        if (last ? last.state === 'open' || last.started_at > cutoff : t.createdAt > cutoff) return;
        await accessReviews.start({ type: 'system', id: 'job:access-review', tenantId: t.id });
      });
    },
    'audit.review_due': async () => {
      await eachTenant('audit.review_due', (t) => auditReviews.openDue(t.id as TenantId, t.createdAt));
    },
    [SCAN_JOB]: async (job) => {
      await scanGate.scanVersion(job.tenantId as TenantId, String(job.payload.versionId));
    },
    [MAIL_JOB]: async (job) => {
      await mail.send(job.tenantId as TenantId, String(job.payload.id));
    },
    [RESCAN_JOB]: async (job) => {
      await scanGate.rescanVersion(job.tenantId as TenantId, String(job.payload.versionId));
    },
    'malware.signature_check': async () => {
      // Scale-out pool: PING every host, so one that came back is used again and a dead one is skipped.
      if (scanner instanceof ScannerPool) {
        const health = await scanner.health();
        const down = health.filter((h) => !h.ok).length;
        if (down) logger.warn({ down, of: health.length }, 'clamd pool members not answering');
      }
      await signatures.check();
    },
    'files.purge_originals': async () => {
      await eachTenant('files.purge_originals', (t) => sanitizer.purgeOriginals(t.id));
    },
    'malware.rescan_due': async () => {
      await signatures.queueDue();
    },
    [SANITIZE_JOB]: async (job) => {
      await sanitizer.sanitizeVersion(job.tenantId as TenantId, String(job.payload.versionId));
    },
    [REWRAP_JOB]: async (job) => {
      await keyRotation.rewrap(job.tenantId as TenantId);
    },
    // Keys wrapped under an old KEK after its re-wrap ended (an upload finished days later) are
    // moved by a daily sweep, so an old version can be retired (ENC-03).
    'keys.rewrap_sweep': async () => {
      await eachTenant('keys.rewrap_sweep', async (t) => {
        const s = await keyRotation.status(t.id as TenantId);
        if (s.pendingBlobs + s.pendingSecrets > 0) await keyRotation.rewrap(t.id as TenantId);
      });
    },
    'files.purge_trash': async () => {
      await eachTenant('files.purge_trash', (t) => trash.purgeExpired(t.id));
    },
    'files.upload_cleanup': async () => {
      await uploads.cleanup();
    },
    'files.scrub': async () => {
      await scrubber.run();
    },
    [PII_JOB]: async (job) => {
      await labels.checkVersion(job.tenantId as TenantId, String(job.payload.versionId));
    },
    [EXCHANGE_HOUSEKEEPING_JOB]: async () => {
      await exchangeRetention.run();
    },
  };
  return {
    config,
    clock,
    logger,
    database,
    keyProvider,
    serviceKeys,
    keyring,
    auditRepository,
    audit,
    checkpointStore,
    checkpoints,
    auditVerify,
    auditQuery,
    auditReviews,
    tenants,
    tenantRepository: tenantRepo,
    tenantPolicy,
    userRepository,
    sessionService,
    auth,
    userAdmin,
    authPolicy,
    apiTokens,
    accessReviews,
    supportGrants,
    webauthn,
    groups,
    blobStore,
    vault,
    scanner,
    clamdSupervisor,
    scanGate,
    sanitizer,
    quarantine,
    recovery,
    signatures,
    mail,
    notifications,
    folders,
    files: fileService,
    trash,
    uploads,
    scrubber,
    keyRotation,
    requests,
    shares,
    labels,
    exchangeRetention,
    publicBaseUrl,
    jobs,
    scheduler,
    readiness,
    status,
    metrics,
    jobHandlers,
  };
}

/** Starts the job worker with the periodic schedules. */
export async function startWorker(services: Services, id: string): Promise<Worker> {
  for (const s of SCHEDULES) await services.scheduler.ensure(s);
  const worker = new Worker(services.jobs, {
    id,
    handlers: services.jobHandlers,
    scheduler: services.scheduler,
    idlePollMs: services.config.jobs.pollMs,
    onLoopError: (err) =>
      services.logger.warn({ err: { name: (err as Error).name, code: (err as { code?: string }).code } }, 'job loop error'),
  });
  worker.start();
  return worker;
}
