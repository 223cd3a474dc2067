/**
 * Periodic access reviews (AC-04, ISMAP 9.2.1): a snapshot of every user, role and state with the
 * differences since the last signed-off review; a reviewer confirms or revokes each user (revoking
 * suspends the account), then signs off with findings. Exportable as CSV and XLSX.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';
import type { AccessReviewItemsTable, AccessReviewsTable } from '../db/schema.js';
import type { AccessReviewRepository } from './access-review.repository.js';
import type { UserAdminService } from './user-admin.service.js';
import type { UserRepository } from './user.repository.js';
import { toCsv } from '../core/csv.js';

/** Default review period: quarterly (AC-04). */
export const REVIEW_PERIOD_DAYS = 91;

export interface ReviewDiff {
  added: string[];
  removed: string[];
  changed: Array<{ loginId: string; from: string; to: string }>;
}

export interface ReviewView {
  id: string;
  state: AccessReviewsTable['state'];
  startedBy: string;
  startedAt: string;
  dueAt: string;
  signedOffBy: string | null;
  signedOffAt: string | null;
  findings: string | null;
  diff: ReviewDiff;
  items: Array<{
    userId: string;
    loginId: string;
    displayName: string;
    role: string;
    state: string;
    lastLoginAt: string | null;
    decision: AccessReviewItemsTable['decision'];
    decidedBy: string | null;
    decidedAt: string | null;
    note: string | null;
  }>;
}

export class AccessReviewService {
  constructor(
    private readonly deps: {
      database: Database;
      clock: Clock;
      audit: AuditLog;
      reviews: AccessReviewRepository;
      users: UserRepository;
      userAdmin: UserAdminService;
    },
  ) {}

  async start(actor: Actor): Promise<ReviewView> {
    const id = await this.deps.database.transaction(async (trx) => {
      if (await this.deps.reviews.open(actor.tenantId, trx)) throw new AppError('review.already_open');
      const now = this.deps.clock.now();
      const users = (await this.deps.users.list(actor.tenantId, trx)).filter((u) => u.state !== 'deleted');
      const last = await this.deps.reviews.lastSignedOff(actor.tenantId, trx);
      const before = last ? await this.deps.reviews.items(actor.tenantId, last.id, trx) : [];
      const key = (x: { role: string; state: string }) => `${x.role}/${x.state}`;
      const prev = new Map(before.map((i) => [i.login_id, key(i)]));
      const nowMap = new Map(users.map((u) => [u.loginId, key(u)]));
      const diff: ReviewDiff = {
        added: users.filter((u) => !prev.has(u.loginId)).map((u) => u.loginId),
        removed: before.filter((i) => !nowMap.has(i.login_id)).map((i) => i.login_id),
        changed: users
          .filter((u) => prev.has(u.loginId) && prev.get(u.loginId) !== key(u))
          .map((u) => ({ loginId: u.loginId, from: prev.get(u.loginId)!, to: key(u) })),
      };
      const review: AccessReviewsTable = {
        id: randomId(),
        tenant_id: actor.tenantId,
        state: 'open',
        started_by: actor.id ?? 'system',
        started_at: now.toISOString(),
        due_at: new Date(now.getTime() + 14 * 86_400_000).toISOString(),
        diff: JSON.stringify(diff),
        signed_off_by: null,
        signed_off_at: null,
        findings: null,
      };
      await this.deps.reviews.insert(
        trx,
        review,
        users.map((u) => ({
          review_id: review.id,
          tenant_id: actor.tenantId,
          user_id: u.id,
          login_id: u.loginId,
          display_name: u.displayName,
          role: u.role,
          state: u.state,
          last_login_at: u.lastLoginAt,
          decision: 'pending' as const,
          decided_by: null,
          decided_at: null,
          note: null,
        })),
      );
      await this.deps.audit.append(trx, actor, {
        action: 'access_review.started',
        target: { type: 'access_review', id: review.id },
        details: { users: users.length, added: diff.added.length, removed: diff.removed.length, changed: diff.changed.length },
      });
      return review.id;
    });
    return this.get(actor.tenantId, id);
  }

  async list(tenantId: string): Promise<Array<Omit<ReviewView, 'items'>>> {
    return (await this.deps.reviews.list(tenantId)).map((r) => this.summary(r));
  }

  private summary(r: AccessReviewsTable): Omit<ReviewView, 'items'> {
    return {
      id: r.id,
      state: r.state,
      startedBy: r.started_by,
      startedAt: r.started_at,
      dueAt: r.due_at,
      signedOffBy: r.signed_off_by,
      signedOffAt: r.signed_off_at,
      findings: r.findings,
      diff: JSON.parse(r.diff) as ReviewDiff,
    };
  }

  async get(tenantId: string, id: string): Promise<ReviewView> {
    const r = await this.deps.reviews.find(tenantId, id);
    if (!r) throw new AppError('review.not_found');
    const items = await this.deps.reviews.items(tenantId, id);
    return {
      ...this.summary(r),
      items: items.map((i) => ({
        userId: i.user_id,
        loginId: i.login_id,
        displayName: i.display_name,
        role: i.role,
        state: i.state,
        lastLoginAt: i.last_login_at,
        decision: i.decision,
        decidedBy: i.decided_by,
        decidedAt: i.decided_at,
        note: i.note,
      })),
    };
  }

  /**
   * Confirms a user's access, or revokes it: the account is suspended at once (sessions and API
   * tokens end, HR-07). The decision, the suspension and their audit events are one transaction, and
   * a user who is not an item of the review changes nothing (404).
   */
  async decide(actor: Actor, reviewId: string, userId: string, decision: 'confirmed' | 'revoked', note?: string): Promise<void> {
    await this.deps.database.transaction(async (trx) => {
      const r = await this.deps.reviews.find(actor.tenantId, reviewId, trx);
      if (!r) throw new AppError('review.not_found');
      if (r.state !== 'open') throw new AppError('review.closed');
      const ok = await this.deps.reviews.decide(trx, actor.tenantId, reviewId, userId, {
        decision,
        decided_by: actor.id,
        decided_at: this.deps.clock.now().toISOString(),
        note: note ?? null,
      });
      if (!ok) throw new AppError('user.not_found');
      if (decision === 'revoked') {
        const u = await this.deps.users.findById(actor.tenantId, userId, trx);
        if (u?.state === 'active') await this.deps.userAdmin.suspend(actor, userId, undefined, trx);
      }
      await this.deps.audit.append(trx, actor, {
        action: 'access_review.decided',
        target: { type: 'user', id: userId },
        details: { review: reviewId, decision, ...(note ? { note } : {}) },
      });
    });
  }

  /** Sign-off once every user is decided; the reviewer's findings are kept (AC-04). */
  async signOff(actor: Actor, reviewId: string, findings: string): Promise<ReviewView> {
    await this.deps.database.transaction(async (trx) => {
      const r = await this.deps.reviews.find(actor.tenantId, reviewId, trx);
      if (!r) throw new AppError('review.not_found');
      const items = await this.deps.reviews.items(actor.tenantId, reviewId, trx);
      const pending = items.filter((i) => i.decision === 'pending').length;
      if (pending > 0) throw new AppError('review.incomplete', `${pending} pending`);
      if (
        !(await this.deps.reviews.signOff(
          trx,
          actor.tenantId,
          reviewId,
          actor.id ?? 'system',
          this.deps.clock.now().toISOString(),
          findings,
        ))
      ) {
        throw new AppError('review.closed');
      }
      await this.deps.audit.append(trx, actor, {
        action: 'access_review.signed_off',
        target: { type: 'access_review', id: reviewId },
        details: {
          confirmed: items.filter((i) => i.decision === 'confirmed').length,
          revoked: items.filter((i) => i.decision === 'revoked').length,
          findings,
        },
      });
    });
    return this.get(actor.tenantId, reviewId);
  }

  /** The review as CSV (UTF-8 with BOM so Excel opens Japanese correctly) or XLSX. */
  async export(actor: Actor, reviewId: string, format: 'csv' | 'xlsx'): Promise<Buffer> {
    const v = await this.get(actor.tenantId, reviewId);
    const header = ['ログインID', '氏名', 'ロール', '状態', '最終ログイン', '判定', '判定者', '判定日時', 'メモ'];
    const rows = v.items.map((i) => [
      i.loginId,
      i.displayName,
      i.role,
      i.state,
      i.lastLoginAt ?? '',
      i.decision,
      i.decidedBy ?? '',
      i.decidedAt ?? '',
      i.note ?? '',
    ]);
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'access_review.exported',
        target: { type: 'access_review', id: reviewId },
        details: { format },
      }),
    );
    if (format === 'csv') return toCsv(header, rows);
    const { default: ExcelJS } = await import('exceljs'); // on first use: several MB of heap
    const wb = new ExcelJS.Workbook();
    wb.creator = 'Kura';
    const ws = wb.addWorksheet('アクセスレビュー');
    ws.addRow(['アクセス権レビュー', v.id]);
    ws.addRow(['開始', v.startedAt, '承認（サインオフ）', v.signedOffAt ?? '未', v.signedOffBy ?? '']);
    ws.addRow([
      '追加',
      v.diff.added.join(' '),
      '削除',
      v.diff.removed.join(' '),
      '変更',
      v.diff.changed.map((c) => `${c.loginId}: ${c.from}→${c.to}`).join(' '),
    ]);
    ws.addRow([]);
    ws.addRow(header).font = { bold: true };
    for (const r of rows) ws.addRow(r);
    return Buffer.from(await wb.xlsx.writeBuffer());
  }
}
