/**
 * Share links to outside parties (送信, LG-03, TLS-03, HR-05, PII-01): staff pick files, recipients
 * and a purpose; the tenant's domain lists and label rules apply; a confirmation step names every
 * external recipient and domain; 上長承認 decides before anything reaches a recipient; recipients
 * verify a one-time code (or a password the sender passes on, where the tenant allows it) and
 * download within the expiry and the per-file limit; the sender is told of each download.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor, TenantId, Zone } from '../core/types.js';
import { hashPassword, verifyPassword } from '../crypto/password-hash.js';
import { randomId } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';
import type { FileAccess } from '../files/file-access.js';
import type { FileRepository, VersionRow } from '../files/file.repository.js';
import type { Download, FileService } from '../files/file.service.js';
import type { FolderRepository } from '../files/folder.repository.js';
import type { UserRepository } from '../identity/user.repository.js';
import type { MailService } from '../mail/mail.service.js';
import type { NotificationRepository } from '../notifications/notification.repository.js';
import { isFeatureEnabled, requireFeature } from '../tenants/feature-guard.js';
import type { TenantRepository } from '../tenants/tenant.repository.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import type { TenantSettings } from '../tenants/tenant-settings.js';
import { approvalReasons, deletionDate, domainAllowed, forbiddenLabels, maskEmail, normaliseEmail } from './exchange-policy.js';
import type { DecisionRow, ExchangeRepository, RecipientRow, ShareFileRow, ShareRow } from './exchange.repository.js';
import type { LinkCredentials } from './request.service.js';
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

/** The labels that apply to each file (the label capability provides them). */
export interface LabelSource {
  effective(tenantId: string, fileIds: string[]): Promise<Map<string, { level: string; flags: string[] }>>;
}

export interface ShareServiceDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  exchange: ExchangeRepository;
  files: FileService;
  fileRepo: FileRepository;
  folderRepo: FolderRepository;
  access: FileAccess;
  users: UserRepository;
  tenants: TenantRepository;
  policy: TenantPolicyService;
  mail: MailService;
  notifications: NotificationRepository;
  labels: LabelSource;
  publicBaseUrl: (zone: Zone) => string;
  /** Rescans a version with the current signatures (MAL-04: external downloads of old files re-check first). */
  recheck: (tenantId: TenantId, versionId: string) => Promise<unknown>;
}

/** A version scanned longer ago than this is scanned again before an outside party downloads it. */
export const RECHECK_AFTER_MS = 24 * 3_600_000;

export interface ShareInput {
  fileIds: string[];
  recipients: string[];
  purpose: string;
  message: string;
  expiresInDays: number;
  maxDownloads?: number | undefined;
  verification: 'code' | 'password';
  password?: string | undefined;
  lang: 'ja' | 'en';
}

interface Plan {
  settings: TenantSettings;
  files: { fileId: string; name: string; size: number; sha256: string; labels: string[]; version: VersionRow }[];
  recipients: { email: string; domain: string }[];
  domains: string[];
  reasons: string[];
  approvalGroups: string[];
  approvers: { id: string; name: string }[];
  expiresAt: string;
  maxDownloads: number;
}

const MIN_LINK_PASSWORD = 12;
/** Roles that may decide a share (the same as may be named a group's approver, and as the decide route admits). */
const DECIDING_ROLES = new Set<string>(['approver', 'tenant_admin']);
/** Refusals by the tenant's rules (as opposed to bad input): each one is an audit event. */
const POLICY_BLOCKS = new Set<string>([
  'share.label_forbids_external',
  'share.domain_denied',
  'share.password_not_allowed',
  'tenant.feature_disabled',
  'exchange.expiry_too_long',
]);

export class ShareService {
  constructor(private readonly deps: ShareServiceDeps) {}

  private now(): Date {
    return this.deps.clock.now();
  }

  // ---- sending ----

  /** Everything the confirmation step shows, after every policy check (errors are the policy's answer). */
  async preview(actor: Actor, input: ShareInput) {
    const plan = await this.planAudited(actor, input);
    return {
      recipients: plan.recipients,
      domains: plan.domains,
      files: plan.files.map(({ version: _v, ...f }) => f),
      approvalRequired: plan.reasons.length > 0,
      approvalReasons: plan.reasons,
      approvers: plan.approvers,
      expiresAt: plan.expiresAt,
      maxDownloads: plan.maxDownloads,
      verification: input.verification,
    };
  }

  /**
   * The tenant's rules applied again to a share made earlier (at approval and at each download):
   * a label that now forbids it, a domain now denied, the switch now off. Audited and thrown.
   */
  private async refuseIfBlocked(actor: Actor, share: ShareRow, fileIds: string[], domains: string[]): Promise<void> {
    const settings = await this.deps.policy.get(share.tenant_id);
    let block: AppError | null = null;
    if (!isFeatureEnabled(settings, 'internet', 'external_sharing'))
      block = new AppError('tenant.feature_disabled', 'external_sharing', ['external_sharing']);
    for (const d of domains)
      if (!block && !domainAllowed(d, settings.exchange)) block = new AppError('share.domain_denied', d, [d]);
    if (!block) {
      const labels = await this.deps.labels.effective(share.tenant_id, fileIds);
      for (const l of labels.values()) {
        const forbidden = forbiddenLabels([l.level, ...l.flags], settings.labels);
        if (forbidden.length) {
          block = new AppError('share.label_forbids_external', forbidden.join(','), forbidden);
          break;
        }
      }
    }
    if (!block) return;
    const reason = block.code;
    const reasons = block.reasons ?? [];
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'exchange.share_blocked',
        target: { type: 'exchange_share', id: share.id },
        outcome: 'denied',
        reason,
        details: { fileIds, reasons },
      }),
    );
    throw block;
  }

  /** The plan; a refusal by policy (label, domain, switch, password rule) is audited as denied before it is returned. */
  private async planAudited(actor: Actor, input: ShareInput): Promise<Plan> {
    try {
      return await this.plan(actor, input);
    } catch (err) {
      if (err instanceof AppError && POLICY_BLOCKS.has(err.code)) {
        await this.deps.database.transaction((trx) =>
          this.deps.audit.append(trx, actor, {
            action: 'exchange.share_blocked',
            target: { type: 'exchange_share', id: 'none' },
            outcome: 'denied',
            reason: err.code,
            details: { fileIds: input.fileIds, recipients: input.recipients, reasons: err.reasons ?? [] },
          }),
        );
      }
      throw err;
    }
  }

  private async plan(actor: Actor, input: ShareInput): Promise<Plan> {
    const settings = await this.deps.policy.get(actor.tenantId);
    requireFeature(settings, actor.zone ?? 'lgwan', 'external_sharing');
    requireFeature(settings, 'internet', 'external_sharing');
    if (input.expiresInDays > settings.features.maxLinkExpiryDays) throw new AppError('exchange.expiry_too_long');
    if (input.verification === 'password') {
      if (!isFeatureEnabled(settings, 'internet', 'password_only_links')) throw new AppError('share.password_not_allowed');
      if (!input.password || [...input.password].length < MIN_LINK_PASSWORD) throw new AppError('share.password_weak');
    }
    // Recipients: valid addresses, each domain allowed by the tenant's lists (TLS-03).
    const recipients = new Map<string, { email: string; domain: string }>();
    for (const raw of input.recipients) {
      const r = normaliseEmail(raw);
      if (!r) throw new AppError('request.invalid', `recipient ${raw.slice(0, 80)}`);
      if (!domainAllowed(r.domain, settings.exchange)) throw new AppError('share.domain_denied', r.domain, [r.domain]);
      recipients.set(r.email.toLowerCase(), r);
    }
    // Files: the caller edits them, the newest version is clean and checked, no label forbids the share.
    const ids = [...new Set(input.fileIds)];
    const labels = await this.deps.labels.effective(actor.tenantId, ids);
    const files: Plan['files'] = [];
    let piiHit = false;
    let piiUnread = false;
    for (const fileId of ids) {
      const { file } = await this.deps.access.requireFile(actor, fileId, 'editor');
      const versions = await this.deps.fileRepo.versions(actor.tenantId, fileId);
      const v = versions[0]; // newest first
      if (!v || v.state !== 'available') throw new AppError('share.file_not_available', file.name);
      if (v.pii_state === 'pending') throw new AppError('share.pii_check_pending', file.name);
      if (v.pii_state === 'hit') piiHit = true;
      if (v.pii_state === 'unreadable') piiUnread = true;
      const l = labels.get(fileId);
      const all = l ? [l.level, ...l.flags] : [settings.labels.defaultLevel];
      const forbidden = forbiddenLabels(all, settings.labels);
      if (forbidden.length) throw new AppError('share.label_forbids_external', forbidden.join(','), forbidden);
      files.push({ fileId, name: file.name, size: v.size, sha256: v.sha256, labels: all, version: v });
    }
    const domains = [...new Set([...recipients.values()].map((r) => r.domain))].sort();
    const reasons = approvalReasons(
      { labels: [...new Set(files.flatMap((f) => f.labels))], totalBytes: files.reduce((n, f) => n + f.size, 0), domains },
      settings.exchange,
      settings.labels,
    );
    // A personal-data hit the uploader has not labelled yet still needs a second pair of eyes (PII-02).
    if (piiHit) reasons.push('pii');
    // One the check could not read is not known to be free of it either.
    if (piiUnread) reasons.push('pii_unreadable');
    let approvalGroups: string[] = [];
    let approvers: { id: string; name: string }[] = [];
    if (reasons.length) {
      ({ groups: approvalGroups, approvers } = await this.eligibleApprovers(actor.tenantId, actor.id!));
      if (!approvers.length) throw new AppError('share.no_approver');
    }
    const maxDownloads = Math.min(input.maxDownloads ?? settings.exchange.maxDownloads, settings.exchange.maxDownloads);
    return {
      settings,
      files,
      recipients: [...recipients.values()],
      domains,
      reasons,
      approvalGroups,
      approvers,
      expiresAt: new Date(this.now().getTime() + input.expiresInDays * 86_400_000).toISOString(),
      maxDownloads,
    };
  }

  /**
   * Who may decide a share by `senderId`: the approvers and deputies of the sender's groups; when
   * none of them has any, every active user with the approver role. Never the sender. A group's
   * approver counts only while still active with a role that may decide (approver, tenant admin):
   * one demoted since keeps no say, no notices and no view of pending shares.
   */
  private async eligibleApprovers(tenantId: string, senderId: string, exec?: Parameters<UserRepository['list']>[1]) {
    const groups = new Set(await this.deps.folderRepo.groupIdsOf(tenantId, senderId, exec));
    const rows = (await this.deps.exchange.approvers(tenantId, exec)).filter(
      (a) => groups.has(a.group_id) && a.state === 'active' && DECIDING_ROLES.has(a.role) && a.user_id !== senderId,
    );
    if (rows.length) {
      const seen = new Map(rows.map((r) => [r.user_id, r.display_name]));
      return {
        groups: [...new Set(rows.map((r) => r.group_id))],
        approvers: [...seen].map(([id, name]) => ({ id, name })),
        byGroup: rows,
      };
    }
    const users = (await this.deps.users.list(tenantId, exec)).filter(
      (u) => u.role === 'approver' && u.state === 'active' && u.id !== senderId,
    );
    return { groups: [], approvers: users.map((u) => ({ id: u.id, name: u.displayName })), byGroup: [] };
  }

  async create(actor: Actor, input: ShareInput & { confirmedDomains: string[] }) {
    const plan = await this.planAudited(actor, input);
    // TLS-03: the sender confirmed exactly these external domains on the confirmation step.
    const confirmed = [...new Set(input.confirmedDomains.map((d) => d.toLowerCase()))].sort();
    if (confirmed.join(',') !== plan.domains.join(',')) throw new AppError('share.confirmation_required');
    const now = this.now();
    const at = now.toISOString();
    const needsApproval = plan.reasons.length > 0;
    const share: ShareRow = {
      id: randomId(),
      tenant_id: actor.tenantId,
      created_by: actor.id!,
      purpose: input.purpose,
      message: input.message,
      lang: input.lang,
      verification: input.verification,
      password_hash: input.verification === 'password' ? await hashPassword(input.password!) : null,
      max_downloads: plan.maxDownloads,
      state: needsApproval ? 'pending' : 'active',
      approval_mode: needsApproval ? plan.settings.exchange.approval.mode : null,
      approval_groups: JSON.stringify(plan.approvalGroups),
      approval_reasons: JSON.stringify(plan.reasons),
      created_at: at,
      approval_expires_at: needsApproval
        ? new Date(now.getTime() + plan.settings.exchange.approval.pendingHours * 3_600_000).toISOString()
        : null,
      activated_at: null,
      expires_at: plan.expiresAt,
      expiry_days: input.expiresInDays,
      closed_at: null,
      last_download_at: null,
      delete_at: null,
      deletion_notified_at: null,
    };
    const files: ShareFileRow[] = plan.files.map((f) => ({
      share_id: share.id,
      tenant_id: actor.tenantId,
      file_id: f.fileId,
      version_id: f.version.id,
      name: f.name,
      size: f.size,
      sha256: f.sha256,
    }));
    const recipients: RecipientRow[] = plan.recipients.map((r) => ({
      id: randomId(),
      tenant_id: actor.tenantId,
      share_id: share.id,
      email: r.email,
      domain: r.domain,
      token_hash: null,
      downloads: 0,
      last_download_at: null,
      verified_at: null,
      code_hash: null,
      code_expires_at: null,
      code_attempts: 0,
      locked_until: null,
      session_hash: null,
      session_expires_at: null,
    }));
    const sender = await this.deps.users.findById(actor.tenantId, actor.id!);
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.insertShare(trx, share);
      await this.deps.exchange.insertShareFiles(trx, files);
      await this.deps.exchange.insertRecipients(trx, recipients);
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.share_created',
        target: { type: 'exchange_share', id: share.id },
        details: {
          purpose: share.purpose,
          recipients: recipients.map((r) => r.email),
          domains: plan.domains,
          files: files.map((f) => ({ fileId: f.file_id, versionId: f.version_id, name: f.name, sha256: f.sha256 })),
          expiresAt: share.expires_at,
          maxDownloads: share.max_downloads,
          verification: share.verification,
          approval: needsApproval ? { reasons: plan.reasons, mode: share.approval_mode } : null,
        },
      });
      if (needsApproval) {
        await this.deps.notifications.add(
          trx,
          actor.tenantId,
          plan.approvers.map((a) => a.id),
          'exchange.approval_requested',
          { shareId: share.id, purpose: share.purpose, sender: sender?.displayName ?? '' },
          at,
        );
        const emails = await this.deps.users.activeEmails(
          actor.tenantId,
          plan.approvers.map((a) => a.id),
          trx,
        );
        await this.deps.mail.queue(trx, actor.tenantId, emails, 'exchange.approval_requested', {
          sender: sender?.displayName ?? '',
          purpose: share.purpose,
          domains: plan.domains.join(', '),
          count: String(files.length),
          expires: share.approval_expires_at!.slice(0, 16).replace('T', ' '),
        });
      } else {
        await this.activate(trx, actor, share, recipients, files.length, sender?.displayName ?? '');
      }
    });
    this.deps.mail.kick();
    return this.view(actor, share.id);
  }

  /** Sends the share: a link per recipient (token hashed), mailed; the state is already `active`. */
  private async activate(
    trx: Parameters<AuditLog['append']>[0],
    actor: Actor,
    share: ShareRow,
    recipients: RecipientRow[],
    fileCount: number,
    senderName: string,
  ): Promise<void> {
    const at = this.now().toISOString();
    const tenant = await this.deps.tenants.findById(share.tenant_id, trx);
    await this.deps.exchange.updateShare(trx, share.tenant_id, share.id, { state: 'active', activated_at: at });
    for (const r of recipients) {
      const { token, hash } = newLinkToken();
      await this.deps.exchange.updateRecipient(trx, share.tenant_id, r.id, { token_hash: hash });
      await this.deps.mail.queue(
        trx,
        share.tenant_id,
        [r.email],
        'exchange.share_link',
        {
          organization: tenant?.displayName ?? '',
          sender: senderName,
          purpose: share.purpose,
          count: String(fileCount),
          expires: share.expires_at.slice(0, 10),
          verification: share.verification,
          link: `${this.deps.publicBaseUrl('internet')}/x/s/${token}`,
        },
        share.lang as 'ja' | 'en',
      );
    }
    await this.deps.audit.append(trx, actor, {
      action: 'exchange.share_sent',
      target: { type: 'exchange_share', id: share.id },
      details: { recipients: recipients.map((r) => r.email) },
    });
  }

  async list(actor: Actor) {
    return this.dtos(actor, await this.deps.exchange.sharesOf(actor.tenantId, actor.id!));
  }

  /** A share for its sender, an approver who may decide it, or a tenant admin / auditor; otherwise 404. */
  async view(actor: Actor, id: string) {
    const share = await this.deps.exchange.findShare(actor.tenantId, id);
    if (!share) throw new AppError('share.not_found');
    const role = (await this.deps.users.findById(actor.tenantId, actor.id!))?.role;
    const decided = async () =>
      (await this.deps.exchange.decisions(actor.tenantId, [id])).some((d) => d.approver_id === actor.id);
    if (
      share.created_by !== actor.id &&
      role !== 'tenant_admin' &&
      role !== 'auditor' &&
      !(await this.mayDecide(actor, share)) &&
      !(await decided())
    )
      throw new AppError('share.not_found');
    return (await this.dtos(actor, [share]))[0]!;
  }

  async revoke(actor: Actor, id: string): Promise<void> {
    const share = await this.deps.exchange.findShare(actor.tenantId, id);
    if (!share || share.created_by !== actor.id) throw new AppError('share.not_found');
    if (share.state !== 'active' && share.state !== 'pending') return;
    const settings = await this.deps.policy.get(actor.tenantId);
    const at = this.now().toISOString();
    await this.deps.database.transaction(async (trx) => {
      if (!(await this.deps.exchange.transitionShare(trx, actor.tenantId, id, share.state, { state: 'revoked', closed_at: at })))
        return;
      await this.deps.exchange.clearRecipientTokens(trx, actor.tenantId, id);
      await this.deps.exchange.updateShare(trx, actor.tenantId, id, {
        delete_at: deletionDate(settings.exchange.deleteAfterDays, share.last_download_at, at),
      });
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.share_revoked',
        target: { type: 'exchange_share', id },
        details: { purpose: share.purpose },
      });
    });
  }

  // ---- approval (上長承認) ----

  private async mayDecide(actor: Actor, share: ShareRow): Promise<boolean> {
    if (share.state !== 'pending' || share.created_by === actor.id) return false;
    const { approvers } = await this.eligibleApprovers(share.tenant_id, share.created_by);
    return approvers.some((a) => a.id === actor.id);
  }

  async approvals(actor: Actor) {
    const pending = await this.deps.exchange.pendingShares(actor.tenantId);
    const mine: ShareRow[] = [];
    for (const s of pending) if (await this.mayDecide(actor, s)) mine.push(s);
    return this.dtos(actor, mine);
  }

  async decide(actor: Actor, id: string, decision: 'approve' | 'reject', comment: string) {
    const share = await this.deps.exchange.findShare(actor.tenantId, id);
    if (!share) throw new AppError('share.not_found');
    if (share.created_by === actor.id) throw new AppError('share.self_approval');
    if (share.state !== 'pending') throw new AppError('share.not_pending');
    // Who may decide, and whether it is still time, before the policy check: anyone else gets the
    // same 404 as for a share they cannot see, and no policy refusal is recorded under their name.
    const eligible = await this.eligibleApprovers(share.tenant_id, share.created_by);
    if (!eligible.approvers.some((a) => a.id === actor.id)) throw new AppError('share.not_found');
    if (share.approval_expires_at && share.approval_expires_at <= this.now().toISOString())
      throw new AppError('share.not_pending');
    if (decision === 'approve') {
      // The rules may have changed since the share was made (a label, a domain list, a switch).
      const [files, recipients] = await Promise.all([
        this.deps.exchange.shareFiles(share.tenant_id, [id]),
        this.deps.exchange.recipients(share.tenant_id, [id]),
      ]);
      await this.refuseIfBlocked(
        actor,
        share,
        files.map((f) => f.file_id),
        recipients.map((r) => r.domain),
      );
    }
    const at = this.now().toISOString();
    const myGroups = eligible.byGroup.filter((g) => g.user_id === actor.id).map((g) => g.group_id);
    const sender = await this.deps.users.findById(share.tenant_id, share.created_by);
    await this.deps.database.transaction(async (trx) => {
      // Locks the share row first (PostgreSQL): deciders of an "all" share see each other's decisions.
      if (!(await this.deps.exchange.transitionShare(trx, actor.tenantId, id, 'pending', { state: 'pending' })))
        throw new AppError('share.not_pending');
      const earlier = await this.deps.exchange.decisions(actor.tenantId, [id], trx);
      if (earlier.some((d) => d.approver_id === actor.id)) throw new AppError('share.not_pending');
      const row: DecisionRow = {
        id: randomId(),
        tenant_id: actor.tenantId,
        share_id: id,
        approver_id: actor.id!,
        group_id: myGroups[0] ?? null,
        decision: decision === 'approve' ? 'approved' : 'rejected',
        comment,
        decided_at: at,
      };
      await this.deps.exchange.insertDecision(trx, row);
      await this.deps.audit.append(trx, actor, {
        action: decision === 'approve' ? 'exchange.share_approved' : 'exchange.share_rejected',
        target: { type: 'exchange_share', id },
        details: { comment, purpose: share.purpose },
      });
      let final: 'approved' | 'rejected' | null = null;
      if (decision === 'reject') final = 'rejected';
      else {
        // any: one approval; all: one approval from each approval group (tenant approvers count as one group).
        const groups = JSON.parse(share.approval_groups) as string[];
        const approvedBy = [...earlier, row].filter((d) => d.decision === 'approved');
        const covered = (g: string) =>
          approvedBy.some((d) => eligible.byGroup.some((b) => b.group_id === g && b.user_id === d.approver_id));
        if (share.approval_mode !== 'all' || groups.length === 0 || groups.every(covered)) final = 'approved';
      }
      if (!final) return;
      if (final === 'rejected') {
        if (!(await this.deps.exchange.transitionShare(trx, actor.tenantId, id, 'pending', { state: 'rejected', closed_at: at })))
          throw new AppError('share.not_pending');
      } else {
        if (!(await this.deps.exchange.transitionShare(trx, actor.tenantId, id, 'pending', { state: 'active' })))
          throw new AppError('share.not_pending');
        const [recipients, files] = await Promise.all([
          this.deps.exchange.recipients(actor.tenantId, [id], trx),
          this.deps.exchange.shareFiles(actor.tenantId, [id], trx),
        ]);
        await this.activate(trx, actor, share, recipients, files.length, sender?.displayName ?? '');
      }
      await this.deps.notifications.add(
        trx,
        actor.tenantId,
        [share.created_by],
        'exchange.share_decided',
        { shareId: id, purpose: share.purpose, decision: final, comment },
        at,
      );
      await this.deps.mail.queue(
        trx,
        actor.tenantId,
        [sender?.email],
        'exchange.share_decided',
        { purpose: share.purpose, decision: final, comment },
        share.lang as 'ja' | 'en',
      );
    });
    this.deps.mail.kick();
    return this.view(actor, id);
  }

  /** The approver's view of a shared file: the pinned version (its sanitised rebuild on LGWAN, when there is one). */
  async approverDownload(
    actor: Actor,
    shareId: string,
    fileId: string,
    range: (size: number) => { start: number; end: number } | null,
  ): Promise<Download> {
    const share = await this.deps.exchange.findShare(actor.tenantId, shareId);
    if (!share || !(await this.mayDecide(actor, share))) throw new AppError('share.not_found');
    // AC-06: the tenant's download switch for the approver's zone applies here as on every download route.
    requireFeature(await this.deps.policy.get(actor.tenantId), actor.zone ?? 'lgwan', 'downloads');
    const sf = (await this.deps.exchange.shareFiles(actor.tenantId, [shareId])).find((f) => f.file_id === fileId);
    const file = sf && (await this.deps.fileRepo.find(actor.tenantId, fileId));
    const v = sf && (await this.deps.fileRepo.findVersion(actor.tenantId, sf.version_id));
    if (!sf || !file || file.deleted_at !== null || !v) throw new AppError('file.not_found');
    return this.deps.files.serveVersion(actor, file, v, {
      range,
      audit: { action: 'exchange.approver_viewed', details: { shareId } },
    });
  }

  // ---- approvers per group (tenant admin) ----

  async listApprovers(actor: Actor) {
    return (await this.deps.exchange.approvers(actor.tenantId)).map((a) => ({
      groupId: a.group_id,
      groupName: a.group_name,
      userId: a.user_id,
      userName: a.display_name,
      deputy: a.deputy === 1,
    }));
  }

  async setApprovers(actor: Actor, groupId: string, rows: { userId: string; deputy: boolean }[]): Promise<void> {
    const group = await this.deps.database.db
      .selectFrom('groups')
      .select(['id', 'name'])
      .where('tenant_id', '=', actor.tenantId)
      .where('id', '=', groupId)
      .executeTakeFirst();
    if (!group) throw new AppError('group.not_found');
    const users = new Map((await this.deps.users.list(actor.tenantId)).map((u) => [u.id, u]));
    for (const r of rows) {
      const u = users.get(r.userId);
      if (!u || u.state !== 'active' || (u.role !== 'approver' && u.role !== 'tenant_admin'))
        throw new AppError('approvers.invalid_user');
    }
    const unique = [...new Map(rows.map((r) => [r.userId, r])).values()];
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.replaceApprovers(trx, actor.tenantId, groupId, unique, this.now().toISOString());
      await this.deps.audit.append(trx, actor, {
        action: 'exchange.approvers_changed',
        target: { type: 'group', id: groupId },
        details: { group: group.name, approvers: unique },
      });
    });
  }

  // ---- outside party ----

  private async resolve(creds: LinkCredentials, zone: Zone) {
    if (zone !== 'internet') throw new AppError('exchange.not_found');
    const recipient = await this.deps.exchange.recipientByToken(tokenHash(creds.token));
    const share = recipient && (await this.deps.exchange.findShare(recipient.tenant_id, recipient.share_id));
    if (!recipient || !share || share.state !== 'active' || share.expires_at <= this.now().toISOString())
      throw new AppError('exchange.not_found');
    if (share.delete_at && share.delete_at <= this.now().toISOString()) throw new AppError('exchange.not_found');
    const tenant = await this.deps.tenants.findById(share.tenant_id);
    if (!tenant || tenant.status !== 'active') throw new AppError('exchange.not_found');
    const settings = await this.deps.policy.get(share.tenant_id);
    if (!isFeatureEnabled(settings, 'internet', 'external_sharing')) throw new AppError('exchange.not_found');
    return { recipient, share, settings, tenant };
  }

  private externalActor(recipient: RecipientRow, creds: LinkCredentials): Actor {
    return {
      type: 'external',
      id: recipient.email,
      tenantId: recipient.tenant_id as TenantId,
      ip: creds.ip,
      zone: 'internet',
      userAgent: creds.userAgent,
      requestId: creds.requestId,
    };
  }

  async externalView(creds: LinkCredentials, zone: Zone) {
    const { recipient, share, tenant } = await this.resolve(creds, zone);
    if (!sessionValid(recipient, creds.session, this.now()))
      return { verified: false as const, verification: share.verification, emailHint: maskEmail(recipient.email) };
    const [files, counts, sender] = await Promise.all([
      this.deps.exchange.shareFiles(share.tenant_id, [share.id]),
      this.deps.exchange.downloads(share.tenant_id, recipient.id),
      this.deps.users.findById(share.tenant_id, share.created_by),
    ]);
    const used = new Map(counts.map((c) => [c.file_id, c.bytes]));
    const count = new Map(counts.map((c) => [c.file_id, c.count]));
    return {
      verified: true as const,
      senderName: sender?.displayName ?? '',
      organization: tenant.displayName,
      purpose: share.purpose,
      message: share.message,
      expiresAt: share.expires_at,
      files: files.map((f) => ({
        fileId: f.file_id,
        name: f.name,
        size: f.size,
        sha256: f.sha256,
        downloadsLeft:
          f.size === 0
            ? share.max_downloads - (count.get(f.file_id) ?? 0)
            : Math.max(0, Math.floor((share.max_downloads * f.size - (used.get(f.file_id) ?? 0)) / f.size)),
      })),
    };
  }

  async sendCode(creds: LinkCredentials, zone: Zone): Promise<void> {
    const { recipient, share } = await this.resolve(creds, zone);
    if (share.verification !== 'code') throw new AppError('exchange.not_found');
    const { code, update } = issueCode(recipient, this.now());
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.updateRecipient(trx, share.tenant_id, recipient.id, update);
      await this.deps.mail.queue(trx, share.tenant_id, [recipient.email], 'exchange.code', { code }, share.lang as 'ja' | 'en');
      await this.deps.audit.append(trx, this.externalActor(recipient, creds), {
        action: 'exchange.code_sent',
        target: { type: 'exchange_share', id: share.id },
        details: { to: recipient.email },
      });
    });
    this.deps.mail.kick();
  }

  /**
   * A code (or, for password links, the password). Each answer first takes an attempt in the
   * database (atomically, so parallel guesses cannot share one); the fifth wrong one locks the link.
   */
  async verify(creds: LinkCredentials, zone: Zone, answer: { code?: string | undefined; password?: string | undefined }) {
    const { recipient, share } = await this.resolve(creds, zone);
    const now = this.now();
    const attempt = await this.deps.database.transaction((trx) =>
      this.deps.exchange.claimAttempt(trx, 'exchange_recipients', share.tenant_id, recipient.id, now.toISOString()),
    );
    if (attempt === null) throw new AppError('exchange.code_locked');
    let right = false;
    if (attempt <= CODE_MAX_ATTEMPTS) {
      if (share.verification === 'password')
        right = Boolean(answer.password && share.password_hash && (await verifyPassword(share.password_hash, answer.password)));
      else {
        const current = (await this.deps.exchange.recipients(share.tenant_id, [share.id])).find((r) => r.id === recipient.id);
        right = codeMatches(current ?? recipient, answer.code ?? '', now);
      }
    }
    const opened = right ? openSession(now) : null;
    const wrong = right ? null : afterWrongAnswer(attempt, now);
    await this.deps.database.transaction(async (trx) => {
      const update = opened ? { ...opened.update, verified_at: now.toISOString() } : wrong!.update;
      if (Object.keys(update).length) await this.deps.exchange.updateRecipient(trx, share.tenant_id, recipient.id, update);
      await this.deps.audit.append(trx, this.externalActor(recipient, creds), {
        action: 'exchange.verified',
        target: { type: 'exchange_share', id: share.id },
        outcome: right ? 'success' : 'failure',
        details: right
          ? { method: share.verification }
          : { method: share.verification, attempts: attempt, locked: wrong!.locked },
      });
    });
    if (!opened) throw new AppError(wrong!.locked ? 'exchange.code_locked' : 'exchange.code_invalid');
    return opened.session;
  }

  /**
   * A download by a verified recipient: counted (a request from byte 0 is one download) against the
   * per-file limit in the same transaction as its audit event; past the limit the link is the same 404.
   * The sender is told by mail of each counted download.
   */
  async download(
    creds: LinkCredentials,
    zone: Zone,
    fileId: string,
    range: (size: number) => { start: number; end: number } | null,
  ): Promise<Download> {
    const { recipient, share, settings } = await this.resolve(creds, zone);
    if (!sessionValid(recipient, creds.session, this.now())) throw new AppError('exchange.verification_required');
    if (!isFeatureEnabled(settings, 'internet', 'downloads')) throw new AppError('exchange.not_found');
    const sf = (await this.deps.exchange.shareFiles(share.tenant_id, [share.id])).find((f) => f.file_id === fileId);
    const file = sf && (await this.deps.fileRepo.find(share.tenant_id, fileId));
    let v = sf && (await this.deps.fileRepo.findVersion(share.tenant_id, sf.version_id));
    if (!sf || !file || file.deleted_at !== null || !v || v.state !== 'available') throw new AppError('exchange.not_found');
    if (!v.scanned_at || Date.parse(v.scanned_at) < this.now().getTime() - RECHECK_AFTER_MS) {
      // MAL-04: an old file is scanned again with today's signatures first; unreachable scanner → 503, not the bytes.
      try {
        await this.deps.recheck(share.tenant_id as TenantId, v.id);
      } catch {
        throw new AppError('service.unavailable', 'rescan before external download failed');
      }
      v = await this.deps.fileRepo.findVersion(share.tenant_id, sf.version_id);
      if (!v || v.state !== 'available') throw new AppError('exchange.not_found');
    }
    const actor = this.externalActor(recipient, creds);
    try {
      await this.refuseIfBlocked(actor, share, [fileId], [recipient.domain]);
    } catch (err) {
      if (err instanceof AppError) throw new AppError('exchange.not_found');
      throw err;
    }
    const sender = await this.deps.users.findById(share.tenant_id, share.created_by);
    let counted = false;
    let reserved = 0;
    const key = { tenantId: share.tenant_id, recipientId: recipient.id, fileId };
    const at = this.now().toISOString();
    const serve = () =>
      this.deps.files.serveVersion(actor, file, v, {
        range,
        audit: { action: 'exchange.downloaded', details: { shareId: share.id, recipient: recipient.email } },
        inTransaction: async (trx, r) => {
          const fresh = !r || r.start === 0;
          reserved = r ? r.end - r.start + 1 : v.size;
          if (!(await this.deps.exchange.reserveDownload(trx, key, reserved, share.max_downloads * v.size, fresh, at)))
            throw new DownloadLimitReached();
          if (!fresh) return;
          counted = true;
          await this.deps.exchange.recipientDownloaded(trx, share.tenant_id, recipient.id, at);
          await this.deps.exchange.updateShare(trx, share.tenant_id, share.id, {
            last_download_at: at,
            delete_at: deletionDate(settings.exchange.deleteAfterDays, at, share.expires_at),
            deletion_notified_at: null,
          });
          await this.deps.notifications.add(
            trx,
            share.tenant_id,
            [share.created_by],
            'exchange.downloaded',
            { shareId: share.id, name: sf.name, recipient: recipient.email },
            at,
          );
          await this.deps.mail.queue(
            trx,
            share.tenant_id,
            [sender?.email],
            'exchange.downloaded',
            { recipient: recipient.email, name: sf.name, purpose: share.purpose, at: at.slice(0, 16).replace('T', ' ') + ' UTC' },
            share.lang as 'ja' | 'en',
          );
        },
      });
    let download: Download;
    try {
      download = await serve();
    } catch (err) {
      if (!(err instanceof DownloadLimitReached)) throw err;
      // The refusal is recorded (who, from where, which file) though the answer is the same 404 as any dead link.
      await this.deps.database.transaction((trx) =>
        this.deps.audit.append(trx, actor, {
          action: 'exchange.download_refused',
          target: { type: 'file', id: fileId },
          outcome: 'denied',
          reason: 'download limit reached',
          details: { shareId: share.id, recipient: recipient.email, limit: share.max_downloads },
        }),
      );
      throw new AppError('exchange.not_found');
    }
    if (counted) this.deps.mail.kick();
    // What the client does not take (it stopped early) goes back to its allowance, so it can resume.
    const meter = new ByteMeter((sent) => {
      if (sent < reserved) void this.deps.exchange.releaseDownload(key, reserved - sent).catch(() => {});
    });
    download.stream.on('error', (err) => meter.destroy(err));
    // A client that leaves early destroys the meter; the decrypting source must close with it.
    meter.on('close', () => download.stream.destroy());
    return { ...download, stream: download.stream.pipe(meter) };
  }

  // ---- DTOs ----

  private async dtos(actor: Actor, shares: ShareRow[]) {
    const ids = shares.map((s) => s.id);
    const tenantId = actor.tenantId;
    const [files, recipients, decisions, users] = await Promise.all([
      this.deps.exchange.shareFiles(tenantId, ids),
      this.deps.exchange.recipients(tenantId, ids),
      this.deps.exchange.decisions(tenantId, ids),
      this.deps.users.list(tenantId),
    ]);
    const names = new Map(users.map((u) => [u.id, u.displayName]));
    const labels = await this.deps.labels.effective(tenantId, [...new Set(files.map((f) => f.file_id))]);
    const out = [];
    for (const s of shares) {
      out.push({
        id: s.id,
        senderId: s.created_by,
        senderName: names.get(s.created_by) ?? '',
        purpose: s.purpose,
        message: s.message,
        state: s.state === 'active' && s.expires_at <= this.now().toISOString() ? ('expired' as const) : s.state,
        verification: s.verification,
        maxDownloads: s.max_downloads,
        createdAt: s.created_at,
        activatedAt: s.activated_at,
        expiresAt: s.expires_at,
        deleteAt: s.delete_at,
        approval: {
          required: s.approval_mode !== null,
          mode: s.approval_mode as 'any' | 'all' | null,
          reasons: JSON.parse(s.approval_reasons) as string[],
          expiresAt: s.approval_expires_at,
          decisions: decisions
            .filter((d) => d.share_id === s.id)
            .map((d) => ({
              approverName: names.get(d.approver_id) ?? '',
              decision: d.decision,
              comment: d.comment,
              decidedAt: d.decided_at,
            })),
          canDecide: await this.mayDecide(actor, s),
        },
        files: files
          .filter((f) => f.share_id === s.id)
          .map((f) => {
            const l = labels.get(f.file_id);
            return { fileId: f.file_id, name: f.name, size: f.size, sha256: f.sha256, labels: l ? [l.level, ...l.flags] : [] };
          }),
        recipients: recipients
          .filter((r) => r.share_id === s.id)
          .map((r) => ({
            id: r.id,
            email: r.email,
            domain: r.domain,
            downloads: r.downloads,
            lastDownloadAt: r.last_download_at,
            verifiedAt: r.verified_at,
          })),
      });
    }
    return out;
  }
}

class DownloadLimitReached extends Error {
  override name = 'DownloadLimitReached';
}

/** Passes bytes through and reports how many went out when the stream ends or is destroyed. */
class ByteMeter extends Transform {
  private sent = 0;
  private reported = false;
  constructor(private readonly done: (sent: number) => void) {
    super();
    this.on('close', () => this.report());
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.sent += chunk.length;
    cb(null, chunk);
  }
  private report(): void {
    if (this.reported) return;
    this.reported = true;
    this.done(this.sent);
  }
}
