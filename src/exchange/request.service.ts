/**
 * Upload request links (受け取り, LG-03): a staff member asks an outside party for files. The party
 * opens the link on the internet zone, verifies a one-time code mailed to the request's address,
 * and uploads; the files land in a folder of the staff member (as their files, on their quota), go
 * through the scan gate and 無害化, and reach the LGWAN zone only as sanitised versions (MAL-08).
 */
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor, TenantId, Zone } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';
import type { FileRepository } from '../files/file.repository.js';
import type { Download, FileService } from '../files/file.service.js';
import type { FolderService } from '../files/folder.service.js';
import type { UserRepository } from '../identity/user.repository.js';
import type { MailService } from '../mail/mail.service.js';
import { categoryOfName, type TypeCategory } from '../malware/true-type.js';
import type { NotificationRepository } from '../notifications/notification.repository.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import { isFeatureEnabled, requireFeature } from '../tenants/feature-guard.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { deletionDate, maskEmail, normaliseEmail } from './exchange-policy.js';
import type { ExchangeRepository, RequestFileRow, RequestRow } from './exchange.repository.js';
import {
  afterWrongAnswer,
  CODE_MAX_ATTEMPTS,
  codeMatches,
  issueCode,
  newLinkToken,
  openSession,
  sessionValid,
  tokenHash,
} from './verification.js';

export interface RequestServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  exchange: ExchangeRepository;
  files: FileService;
  fileRepo: FileRepository;
  folders: FolderService;
  users: UserRepository;
  tenants: TenantRepository;
  policy: TenantPolicyService;
  mail: MailService;
  notifications: NotificationRepository;
  publicBaseUrl: (zone: Zone) => string;
  maxFileBytes: number;
}

export interface CreateRequestInput {
  title: string;
  message: string;
  recipientEmail: string;
  expiresInDays: number;
  allowedTypes: TypeCategory[];
  maxBytes: number;
  requireCode: boolean;
  lang: 'ja' | 'en';
}

export type RequestState = 'open' | 'expired' | 'closed' | 'revoked' | 'deleted';

export interface InboxItem {
  requestId: string;
  requestTitle: string;
  fileId: string;
  name: string;
  size: number;
  sha256: string;
  uploadedAt: string;
  state: string;
  sanitizeState: string | null;
  downloadedAt: string | null;
  deleteAt: string | null;
}

/** An outside party's view of a request once verified (no internal ids). */
export interface ExternalRequestView {
  verified: true;
  title: string;
  message: string;
  senderName: string;
  organization: string;
  allowedTypes: string[];
  maxBytes: number;
  expiresAt: string;
  files: { name: string; size: number; sha256: string; uploadedAt: string }[];
}

/** What an outside party presents: the link token from the URL and the session cookie, if any. */
export interface LinkCredentials {
  token: string;
  session: string | undefined;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

/** Prefix of an outside party's actor id on a request link (`request:<request id>`; upload sessions bind to it). */
const REQUEST_ACTOR = 'request:';

/** Files one upload request takes, and uploads it may have open at a time. */
export const MAX_FILES_PER_REQUEST = 100;
export const MAX_OPEN_UPLOADS_PER_REQUEST = 5;

export class RequestService {
  constructor(private readonly deps: RequestServiceDeps) {}

  private now(): Date {
    return this.deps.clock.now();
  }

  // ---- staff side ----

  async create(actor: Actor, input: CreateRequestInput): Promise<ReturnType<RequestService['dto']> & { link: string }> {
    const settings = await this.deps.policy.get(actor.tenantId);
    requireFeature(settings, actor.zone ?? 'lgwan', 'upload_requests');
    requireFeature(settings, 'internet', 'upload_requests');
    // A link without a one-time code is a public link (AC-06, TLS-04): only where the tenant allows them.
    if (!input.requireCode && !isFeatureEnabled(settings, 'internet', 'public_links'))
      throw new AppError('tenant.feature_disabled', 'public_links', ['public_links']);
    if (input.expiresInDays > settings.features.maxLinkExpiryDays) throw new AppError('exchange.expiry_too_long');
    const to = normaliseEmail(input.recipientEmail);
    if (!to) throw new AppError('request.invalid', 'recipientEmail');
    const user = await this.deps.users.findById(actor.tenantId, actor.id!);
    const tenant = await this.deps.tenants.findById(actor.tenantId);
    if (!user || !tenant) throw new AppError('auth.unauthenticated');
    // The received files get a folder of their own, owned by the requester (keep_both: titles repeat).
    const folder = await this.deps.folders.create(actor, {
      parentId: null,
      // The title is free text; characters a name may not hold become "_" (names are metadata only).
      name: `${input.lang === 'en' ? 'Received' : '受け取り'}_${safeName(input.title)}`.slice(0, 100),
      onConflict: 'keep_both',
    });
    const now = this.now();
    const { token, hash } = newLinkToken();
    const row: RequestRow = {
      id: randomId(),
      tenant_id: actor.tenantId,
      created_by: actor.id!,
      folder_id: folder.id,
      title: input.title,
      message: input.message,
      recipient_email: to.email,
      lang: input.lang,
      token_hash: hash,
      require_code: input.requireCode ? 1 : 0,
      allowed_types: JSON.stringify(input.allowedTypes),
      max_bytes: Math.min(input.maxBytes, this.deps.maxFileBytes),
      state: 'open',
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + input.expiresInDays * 86_400_000).toISOString(),
      closed_at: null,
      code_hash: null,
      code_expires_at: null,
      code_attempts: 0,
      locked_until: null,
      session_hash: null,
      session_expires_at: null,
      last_download_at: null,
      delete_at: null,
      deletion_notified_at: null,
    };
    const link = `${this.deps.publicBaseUrl('internet')}/x/r/${token}`;
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.insertRequest(trx, row);
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.request_created',
        target: { type: 'exchange_request', id: row.id },
        details: {
          title: row.title,
          recipient: row.recipient_email,
          expiresAt: row.expires_at,
          allowedTypes: input.allowedTypes,
          maxBytes: row.max_bytes,
          requireCode: input.requireCode,
          folderId: folder.id,
        },
      });
      await this.deps.mail.queue(
        trx,
        actor.tenantId,
        [row.recipient_email],
        'exchange.request_link',
        {
          sender: user.displayName,
          organization: tenant.displayName,
          title: row.title,
          link,
          expires: row.expires_at.slice(0, 10),
          code: input.requireCode ? 'yes' : '',
        },
        input.lang,
      );
    });
    return { ...this.dto(row, []), link };
  }

  async list(actor: Actor) {
    const rows = await this.deps.exchange.requestsOf(actor.tenantId, actor.id!);
    const files = await this.inboxItems(actor.tenantId, rows);
    return rows.map((r) =>
      this.dto(
        r,
        files.filter((f) => f.requestId === r.id),
      ),
    );
  }

  async view(actor: Actor, id: string) {
    const row = await this.own(actor, id);
    return this.dto(row, await this.inboxItems(actor.tenantId, [row]));
  }

  async revoke(actor: Actor, id: string): Promise<void> {
    const row = await this.own(actor, id);
    if (row.state !== 'open') return;
    const at = this.now().toISOString();
    // Settings are read before the transaction (SQLite has one writer; a read outside it would wait on it).
    const days = (await this.deps.policy.get(actor.tenantId)).exchange.deleteAfterDays;
    const deleteAt = deletionDate(days, row.last_download_at, at);
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.updateRequest(trx, actor.tenantId, id, {
        state: 'revoked',
        closed_at: at,
        session_hash: null,
        code_hash: null,
        delete_at: deleteAt,
      });
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.request_revoked',
        target: { type: 'exchange_request', id },
        details: { title: row.title },
      });
    });
  }

  /** 受信箱: the received files of the caller's requests, newest first. */
  async inbox(actor: Actor): Promise<InboxItem[]> {
    const rows = await this.deps.exchange.requestsOf(actor.tenantId, actor.id!);
    const items = await this.inboxItems(actor.tenantId, rows);
    return items.sort((a, b) => b.uploadedAt.localeCompare(a.uploadedAt));
  }

  /** Downloads a received file (its sanitised version on LGWAN) and starts the deletion timer (HR-05). */
  async downloadReceived(
    actor: Actor,
    fileId: string,
    range: (size: number) => { start: number; end: number } | null,
  ): Promise<Download> {
    const rf = await this.deps.exchange.requestFileByFile(actor.tenantId, fileId);
    const req = rf && (await this.deps.exchange.findRequest(actor.tenantId, rf.request_id));
    if (!rf || !req || req.created_by !== actor.id) throw new AppError('file.not_found');
    const settings = await this.deps.policy.get(actor.tenantId);
    requireFeature(settings, actor.zone ?? 'lgwan', 'downloads');
    const download = await this.deps.files.download(actor, fileId, { range });
    const at = this.now().toISOString();
    if (!range(download.size) || download.range?.start === 0) {
      await this.deps.database.transaction(async (trx) => {
        await this.deps.exchange.markRequestFileDownloaded(trx, actor.tenantId, rf.id, at);
        const closed = req.state !== 'open';
        await this.deps.exchange.updateRequest(trx, actor.tenantId, req.id, {
          last_download_at: at,
          // Deleted N days after the last download once the request no longer takes files.
          ...(closed
            ? {
                delete_at: deletionDate(settings.exchange.deleteAfterDays, at, req.closed_at ?? req.expires_at),
                deletion_notified_at: null,
              }
            : {}),
        });
      });
    }
    return download;
  }

  private async own(actor: Actor, id: string): Promise<RequestRow> {
    const row = await this.deps.exchange.findRequest(actor.tenantId, id);
    if (!row || row.created_by !== actor.id) throw new AppError('exchange.request_not_found');
    return row;
  }

  private async inboxItems(tenantId: string, rows: RequestRow[]): Promise<InboxItem[]> {
    const files = await this.deps.exchange.requestFiles(
      tenantId,
      rows.map((r) => r.id),
    );
    const versions = await this.deps.fileRepo.versionsOf(
      tenantId,
      files.map((f) => f.file_id),
    );
    const live = new Map<string, boolean>();
    for (const f of files) {
      const file = await this.deps.fileRepo.find(tenantId, f.file_id);
      live.set(f.file_id, Boolean(file && file.deleted_at === null));
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    return files.map((f) => {
      const v = versions.find((x) => x.file_id === f.file_id); // newest first
      const r = byId.get(f.request_id)!;
      return {
        requestId: f.request_id,
        requestTitle: r.title,
        fileId: f.file_id,
        name: f.name,
        size: f.size,
        sha256: f.sha256,
        uploadedAt: f.uploaded_at,
        state: live.get(f.file_id) ? (v?.state ?? 'held') : 'deleted',
        sanitizeState: v?.sanitize_state ?? null,
        downloadedAt: f.downloaded_at,
        deleteAt: r.delete_at,
      };
    });
  }

  dto(row: RequestRow, files: InboxItem[]) {
    return {
      id: row.id,
      title: row.title,
      message: row.message,
      recipientEmail: row.recipient_email,
      state: this.stateOf(row),
      requireCode: row.require_code === 1,
      allowedTypes: JSON.parse(row.allowed_types) as string[],
      maxBytes: row.max_bytes,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      deleteAt: row.delete_at,
      folderId: row.folder_id,
      files,
    };
  }

  private stateOf(row: RequestRow): RequestState {
    if (row.state === 'open' && row.expires_at <= this.now().toISOString()) return 'expired';
    return row.state;
  }

  // ---- outside party ----

  /** The request behind a link, or the same 404 for anything unusable (no oracle). */
  private async resolve(creds: LinkCredentials, zone: Zone): Promise<{ row: RequestRow; settings: TenantSettings }> {
    if (zone !== 'internet') throw new AppError('exchange.not_found');
    const row = await this.deps.exchange.requestByToken(tokenHash(creds.token));
    if (!row || row.state !== 'open' || row.expires_at <= this.now().toISOString()) throw new AppError('exchange.not_found');
    const tenant = await this.deps.tenants.findById(row.tenant_id);
    if (!tenant || tenant.status !== 'active') throw new AppError('exchange.not_found');
    const settings = await this.deps.policy.get(row.tenant_id);
    if (!isFeatureEnabled(settings, 'internet', 'upload_requests')) throw new AppError('exchange.not_found');
    return { row, settings };
  }

  /**
   * Whether the caller may use the link: a session from a one-time code, or a link made without a
   * code while the tenant still allows public links (AC-06: switching them off makes such a link
   * ask for a code, mailed to the request's address, from then on).
   */
  private verified(row: RequestRow, settings: TenantSettings, creds: LinkCredentials): boolean {
    if (row.require_code === 0 && isFeatureEnabled(settings, 'internet', 'public_links')) return true;
    return sessionValid(row, creds.session, this.now());
  }

  /** The outside party as an actor: audited as external, storing as the requesting staff member. */
  private externalActor(row: RequestRow, creds: LinkCredentials): Actor {
    return {
      type: 'external',
      id: `${REQUEST_ACTOR}${row.id}`,
      tenantId: row.tenant_id as TenantId,
      ip: creds.ip,
      zone: 'internet',
      userAgent: creds.userAgent,
      requestId: creds.requestId,
      onBehalfOf: row.created_by,
    };
  }

  async externalView(creds: LinkCredentials, zone: Zone): Promise<ExternalRequestView | { verified: false; emailHint: string }> {
    const { row, settings } = await this.resolve(creds, zone);
    if (!this.verified(row, settings, creds)) return { verified: false, emailHint: maskEmail(row.recipient_email) };
    const [user, tenant, files] = await Promise.all([
      this.deps.users.findById(row.tenant_id, row.created_by),
      this.deps.tenants.findById(row.tenant_id),
      this.deps.exchange.requestFiles(row.tenant_id, [row.id]),
    ]);
    return {
      verified: true,
      title: row.title,
      message: row.message,
      senderName: user?.displayName ?? '',
      organization: tenant?.displayName ?? '',
      allowedTypes: JSON.parse(row.allowed_types) as string[],
      maxBytes: row.max_bytes,
      expiresAt: row.expires_at,
      files: files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256, uploadedAt: f.uploaded_at })),
    };
  }

  /** Mails a fresh one-time code to the request's address (never to an address the caller names). */
  async sendCode(creds: LinkCredentials, zone: Zone): Promise<void> {
    const { row } = await this.resolve(creds, zone);
    const { code, update } = issueCode(row, this.now());
    const actor = this.externalActor(row, creds);
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.updateRequest(trx, row.tenant_id, row.id, update);
      await this.deps.mail.queue(trx, row.tenant_id, [row.recipient_email], 'exchange.code', { code }, row.lang as 'ja' | 'en');
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.code_sent',
        target: { type: 'exchange_request', id: row.id },
        details: { to: row.recipient_email },
      });
    });
    this.deps.mail.kick();
  }

  /**
   * Checks a code; returns the session for the cookie. Each answer first takes an attempt in the
   * database (atomically, so parallel guesses cannot share one); the fifth wrong one locks the link.
   */
  async verify(creds: LinkCredentials, zone: Zone, code: string): Promise<string> {
    const { row } = await this.resolve(creds, zone);
    const now = this.now();
    const attempt = await this.deps.database.transaction((trx) =>
      this.deps.exchange.claimAttempt(trx, 'exchange_requests', row.tenant_id, row.id, now.toISOString()),
    );
    if (attempt === null) throw new AppError('exchange.code_locked');
    const current = (await this.deps.exchange.findRequest(row.tenant_id, row.id)) ?? row;
    const ok = attempt <= CODE_MAX_ATTEMPTS && codeMatches(current, code, now);
    const opened = ok ? openSession(now) : null;
    const wrong = ok ? null : afterWrongAnswer(attempt, now);
    const actor = this.externalActor(row, creds);
    await this.deps.database.transaction(async (trx) => {
      const update = opened ? opened.update : wrong!.update;
      if (Object.keys(update).length) await this.deps.exchange.updateRequest(trx, row.tenant_id, row.id, update);
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.verified',
        target: { type: 'exchange_request', id: row.id },
        outcome: ok ? 'success' : 'failure',
        details: ok ? {} : { attempts: attempt, locked: wrong!.locked },
      });
    });
    if (!opened) throw new AppError(wrong!.locked ? 'exchange.code_locked' : 'exchange.code_invalid');
    return opened.session;
  }

  /**
   * The actor and checks for an upload by the outside party: a verified link, the request's type
   * and size rules (refused before any byte is stored, with the reason), then the tenant's.
   */
  async uploadActor(
    creds: LinkCredentials,
    zone: Zone,
    file: { name: string; length: number | null },
  ): Promise<{ actor: Actor; row: RequestRow }> {
    const { row } = await this.linkActor(creds, zone);
    // Bounds what one link can put on the staff member's (and the tenant's) quota.
    const [received, open] = await Promise.all([
      this.deps.exchange.requestFiles(row.tenant_id, [row.id]),
      this.deps.exchange.openUploads(row.tenant_id, row.id, this.now().toISOString()),
    ]);
    if (received.length >= MAX_FILES_PER_REQUEST || open >= MAX_OPEN_UPLOADS_PER_REQUEST)
      throw new AppError('exchange.request_full');
    if (file.length !== null && file.length > row.max_bytes)
      throw new AppError('exchange.too_large', `${file.length} > ${row.max_bytes}`);
    const allowed = JSON.parse(row.allowed_types) as string[];
    const category = categoryOfName(file.name);
    if (allowed.length && !allowed.includes(category)) throw new AppError('exchange.type_not_allowed', category, [category]);
    return { actor: this.externalActor(row, creds), row };
  }

  /** The verified outside party of a link (for resuming an upload); no file rules. */
  async linkActor(creds: LinkCredentials, zone: Zone): Promise<{ actor: Actor; row: RequestRow }> {
    const { row, settings } = await this.resolve(creds, zone);
    if (!this.verified(row, settings, creds)) throw new AppError('exchange.verification_required');
    return { actor: this.externalActor(row, creds), row };
  }

  /** A one-request upload (multipart) by the outside party; the body is cut off past the request's size. */
  async upload(
    creds: LinkCredentials,
    zone: Zone,
    file: { name: string; contentType: string; body: Readable; length: number | null },
  ) {
    const { actor, row } = await this.uploadActor(creds, zone, file);
    const limited = file.body.pipe(new LimitStream(row.max_bytes));
    file.body.on('error', (e) => limited.destroy(e));
    const dto = await this.deps.files.upload(
      actor,
      { folderId: row.folder_id, name: file.name, contentType: file.contentType, onConflict: 'keep_both', zone: 'internet' },
      limited,
      file.length,
    );
    return this.received(actor, row, dto.id);
  }

  /**
   * Records the file of a finished resumable upload. The request is the one the upload session was
   * opened for (the upload service lets only that link's actor, `request:<id>`, append to it), and
   * its link is not checked again: the file is already committed to the request's folder, so a
   * request that expired or was revoked while the last chunk was in transit must still list it
   * (inbox, notice, HR-05 deletion) rather than leave it behind unrecorded.
   */
  async receivedUpload(actor: Actor, fileId: string) {
    const requestId =
      actor.type === 'external' && actor.id?.startsWith(REQUEST_ACTOR) ? actor.id.slice(REQUEST_ACTOR.length) : null;
    const row = requestId ? await this.deps.exchange.findRequest(actor.tenantId, requestId) : undefined;
    if (!row) throw new AppError('exchange.not_found');
    return this.received(actor, row, fileId);
  }

  /** Records a file the outside party finished uploading (idempotent) and tells the staff member. */
  async received(actor: Actor, row: RequestRow, fileId: string) {
    const existing = await this.deps.exchange.requestFileByFile(row.tenant_id, fileId);
    if (existing) return receipt(existing);
    const file = await this.deps.fileRepo.find(row.tenant_id, fileId);
    const [v] = await this.deps.fileRepo.versions(row.tenant_id, fileId); // newest first
    if (!file || !v) throw new AppError('file.not_found');
    const rf: RequestFileRow = {
      id: randomId(),
      tenant_id: row.tenant_id,
      request_id: row.id,
      file_id: fileId,
      name: file.name,
      size: v.size,
      sha256: v.sha256,
      uploaded_at: this.now().toISOString(),
      ip: actor.ip ?? null,
      downloaded_at: null,
    };
    const staff = await this.deps.users.findById(row.tenant_id, row.created_by);
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.insertRequestFile(trx, rf);
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.file_received',
        target: { type: 'file', id: fileId },
        details: { requestId: row.id, name: rf.name, size: rf.size, sha256: rf.sha256, from: row.recipient_email },
      });
      await this.deps.notifications.add(
        trx,
        row.tenant_id,
        [row.created_by],
        'exchange.received',
        { requestId: row.id, title: row.title, fileId, name: rf.name },
        rf.uploaded_at,
      );
      await this.deps.mail.queue(trx, row.tenant_id, [staff?.email], 'exchange.request_received', {
        title: row.title,
        name: rf.name,
      });
    });
    this.deps.mail.kick();
    return receipt(rf);
  }
}

function receipt(f: RequestFileRow) {
  return { name: f.name, size: f.size, sha256: f.sha256, uploadedAt: f.uploaded_at };
}

/** Passes at most `limit` bytes; one more fails the upload with `exchange.too_large` (nothing is kept). */
class LimitStream extends Transform {
  private seen = 0;
  constructor(private readonly limit: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) return cb(new AppError('exchange.too_large', `more than ${this.limit} bytes`));
    cb(null, chunk);
  }
}

/** Free text as a folder name: control characters and path separators become "_". */
function safeName(text: string): string {
  return [...text].map((c) => (c === '/' || c === '\\' || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f ? '_' : c)).join('');
}
