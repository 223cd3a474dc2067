/**
 * Exchange housekeeping (HR-05, LG-03), run hourly: requests past expiry close; pending approvals
 * past their deadline expire (the sender is told); shares past expiry end; exchanged copies are
 * deleted N days after the last download or the end (received files go to the owner's trash, share
 * links lose their tokens); owners are told a day before.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { systemActor, type TenantId } from '../core/types.js';
import type { Database } from '../db/database.js';
import type { FileRepository } from '../files/file.repository.js';
import type { UserRepository } from '../identity/user.repository.js';
import type { MailService } from '../mail/mail.service.js';
import type { NotificationRepository } from '../notifications/notification.repository.js';
import type { TenantPolicyService } from '../tenants/tenant-policy.service.js';
import { deletionDate } from './exchange-policy.js';
import type { ExchangeRepository, RequestRow, ShareRow } from './exchange.repository.js';

export const EXCHANGE_HOUSEKEEPING_JOB = 'exchange.housekeeping';
const DAY_MS = 86_400_000;

export interface ExchangeRetentionDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  exchange: ExchangeRepository;
  fileRepo: FileRepository;
  users: UserRepository;
  policy: TenantPolicyService;
  mail: MailService;
  notifications: NotificationRepository;
}

export class ExchangeRetention {
  constructor(private readonly deps: ExchangeRetentionDeps) {}

  /** One pass over every tenant; returns what it did, for logs and tests. */
  async run(): Promise<{ closed: number; expired: number; deleted: number; warned: number }> {
    const { exchange } = this.deps;
    const now = this.deps.clock.now();
    const at = now.toISOString();
    const out = { closed: 0, expired: 0, deleted: 0, warned: 0 };
    for (const r of await exchange.requestsExpired(at)) {
      await this.closeRequest(r);
      out.closed++;
    }
    for (const s of await exchange.sharesDue(at)) {
      if (s.delete_at && s.delete_at <= at) await this.deleteShare(s);
      else await this.endShare(s);
      out.expired++;
    }
    for (const r of await exchange.requestsDue(at)) {
      await this.deleteRequest(r);
      out.deleted++;
    }
    const soon = new Date(now.getTime() + DAY_MS).toISOString();
    for (const r of await exchange.requestsToWarn(soon)) {
      await this.warn(r.tenant_id, r.created_by, 'request', r.id, r.title, r.delete_at!, r.lang);
      out.warned++;
    }
    for (const s of await exchange.sharesToWarn(soon)) {
      await this.warn(s.tenant_id, s.created_by, 'share', s.id, s.purpose, s.delete_at!, s.lang);
      out.warned++;
    }
    if (out.warned || out.expired) this.deps.mail.kick();
    return out;
  }

  private actor(tenantId: string) {
    return systemActor(tenantId as TenantId, 'job:exchange');
  }

  private async daysOf(tenantId: string): Promise<number> {
    return (await this.deps.policy.get(tenantId)).exchange.deleteAfterDays;
  }

  private async closeRequest(r: RequestRow): Promise<void> {
    const days = await this.daysOf(r.tenant_id);
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.updateRequest(trx, r.tenant_id, r.id, {
        state: 'closed',
        closed_at: r.expires_at,
        session_hash: null,
        code_hash: null,
        delete_at: deletionDate(days, r.last_download_at, r.expires_at),
      });
      await this.deps.audit.append(trx, this.actor(r.tenant_id), {
        action: 'exchange.request_expired',
        target: { type: 'exchange_request', id: r.id },
        details: { title: r.title },
      });
    });
  }

  /** Received files still in the request's folder go to the owner's trash (restorable for the trash period). */
  private async deleteRequest(r: RequestRow): Promise<void> {
    const files = await this.deps.exchange.requestFiles(r.tenant_id, [r.id]);
    const at = this.deps.clock.now().toISOString();
    await this.deps.database.transaction(async (trx) => {
      const trashed: string[] = [];
      for (const f of files) {
        const file = await this.deps.fileRepo.find(r.tenant_id, f.file_id, trx);
        // A file the owner moved out of the request's folder was kept on purpose: it stays.
        if (!file || file.deleted_at !== null || file.folder_id !== r.folder_id) continue;
        await this.deps.fileRepo.update(r.tenant_id, f.file_id, { deleted_at: at, deleted_by: null }, trx);
        trashed.push(f.file_id);
        await this.deps.audit.append(trx, this.actor(r.tenant_id), {
          action: 'file.deleted',
          target: { type: 'file', id: f.file_id },
          details: { name: file.name, folderId: file.folder_id, reason: 'exchange retention (HR-05)', requestId: r.id },
        });
      }
      await this.deps.exchange.updateRequest(trx, r.tenant_id, r.id, { state: 'deleted', token_hash: `deleted:${r.id}` });
      await this.deps.audit.append(trx, this.actor(r.tenant_id), {
        action: 'exchange.request_deleted',
        target: { type: 'exchange_request', id: r.id },
        details: { title: r.title, files: trashed },
      });
    });
  }

  private async endShare(s: ShareRow): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    const days = await this.daysOf(s.tenant_id);
    await this.deps.database.transaction(async (trx) => {
      if (s.state === 'pending') {
        if (!(await this.deps.exchange.transitionShare(trx, s.tenant_id, s.id, 'pending', { state: 'expired', closed_at: at })))
          return;
        await this.deps.audit.append(trx, this.actor(s.tenant_id), {
          action: 'exchange.approval_expired',
          target: { type: 'exchange_share', id: s.id },
          details: { purpose: s.purpose },
        });
        const sender = await this.deps.users.findById(s.tenant_id, s.created_by, trx);
        await this.deps.notifications.add(
          trx,
          s.tenant_id,
          [s.created_by],
          'exchange.approval_expired',
          { shareId: s.id, purpose: s.purpose },
          at,
        );
        await this.deps.mail.queue(
          trx,
          s.tenant_id,
          [sender?.email],
          'exchange.expired',
          { purpose: s.purpose },
          s.lang as 'ja' | 'en',
        );
        return;
      }
      if (
        !(await this.deps.exchange.transitionShare(trx, s.tenant_id, s.id, 'active', {
          state: 'expired',
          closed_at: at,
          delete_at: deletionDate(days, s.last_download_at, s.expires_at),
        }))
      )
        return;
      await this.deps.audit.append(trx, this.actor(s.tenant_id), {
        action: 'exchange.share_expired',
        target: { type: 'exchange_share', id: s.id },
        details: { purpose: s.purpose },
      });
    });
  }

  /** The share's links and sessions go for good; the record (who, what, purpose, downloads) stays for the audit. */
  private async deleteShare(s: ShareRow): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    await this.deps.database.transaction(async (trx) => {
      await this.deps.exchange.updateShare(trx, s.tenant_id, s.id, {
        state: 'deleted',
        closed_at: s.closed_at ?? at,
        password_hash: null,
      });
      await this.deps.exchange.clearRecipientTokens(trx, s.tenant_id, s.id);
      await this.deps.audit.append(trx, this.actor(s.tenant_id), {
        action: 'exchange.share_deleted',
        target: { type: 'exchange_share', id: s.id },
        details: { purpose: s.purpose, reason: 'exchange retention (HR-05)' },
      });
    });
  }

  private async warn(
    tenantId: string,
    ownerId: string,
    what: 'request' | 'share',
    id: string,
    title: string,
    deleteAt: string,
    lang: string,
  ): Promise<void> {
    const at = this.deps.clock.now().toISOString();
    const owner = await this.deps.users.findById(tenantId, ownerId);
    await this.deps.database.transaction(async (trx) => {
      if (what === 'request') await this.deps.exchange.updateRequest(trx, tenantId, id, { deletion_notified_at: at });
      else await this.deps.exchange.updateShare(trx, tenantId, id, { deletion_notified_at: at });
      await this.deps.notifications.add(trx, tenantId, [ownerId], 'exchange.deletion_soon', { what, id, title, deleteAt }, at);
      const ja = lang !== 'en';
      await this.deps.mail.queue(
        trx,
        tenantId,
        [owner?.email],
        'exchange.deletion_notice',
        {
          what: what === 'request' ? (ja ? '受け取り依頼' : 'the upload request') : ja ? '外部送信' : 'the share',
          title,
          date: deleteAt.slice(0, 10),
        },
        ja ? 'ja' : 'en',
      );
    });
  }
}
