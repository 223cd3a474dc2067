/**
 * Periodic review of the audit log (LOG-05, 定期的なレビュー): every week a review of each tenant's
 * log since the last one is opened with a summary of notable events (repeated sign-in failures,
 * mass downloads, administrative actions outside office hours, bulk permission changes, malware
 * and integrity findings); an auditor or admin records findings and signs it off. A review open past
 * its due date (a week) is overdue and shows as such. Admins and auditors may also open one now.
 */
import type { AuditLog } from './audit-log.js';
import type { AuditReviewRepository, AuditReviewRow } from './audit-review.repository.js';
import type { Clock } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import type { Actor, TenantId } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { Database } from '../db/database.js';

export const REVIEW_EVERY_DAYS = 7;
const DAY = 86_400_000;
/** Thresholds of the notable-event detectors, per review period. */
export const DETECTORS = { failuresPerSource: 5, downloadsPerUser: 100, permissionChangesPerUser: 20 } as const;
/** Administrative actions watched for outside office hours (07:00–22:00 JST on weekdays). */
const ADMIN_PREFIXES = ['tenant.', 'user.', 'api_token.', 'group.', 'support.', 'folder.permission_', 'folder.owner_'];

export type NotableKind =
  'repeated_failures' | 'mass_download' | 'off_hours_admin' | 'bulk_permission_changes' | 'malware' | 'integrity';

export interface AuditReviewSummary {
  events: number;
  byOutcome: Record<string, number>;
  notable: Array<{ kind: NotableKind; count: number; who?: string | null }>;
}

export interface AuditReviewView {
  id: string;
  periodFrom: string;
  periodTo: string;
  dueAt: string;
  createdAt: string;
  state: 'open' | 'signed_off';
  overdue: boolean;
  summary: AuditReviewSummary;
  signedOffBy: string | null;
  signedOffAt: string | null;
  findings: string | null;
}

export interface AuditReviewDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  reviews: AuditReviewRepository;
  tenantCreatedAt: (tenantId: string) => Promise<string>;
}

export class AuditReviewService {
  constructor(private readonly deps: AuditReviewDeps) {}

  async list(tenantId: TenantId): Promise<AuditReviewView[]> {
    const now = this.deps.clock.now().toISOString();
    return (await this.deps.reviews.list(tenantId)).map((r) => view(r, now));
  }

  /** The weekly job: opens a review when a week has passed since the last one (or since the tenant began). */
  async openDue(tenantId: TenantId, tenantCreatedAt: string): Promise<AuditReviewView | null> {
    const [last] = await this.deps.reviews.list(tenantId, 1);
    const from = last?.period_to ?? tenantCreatedAt;
    if (this.deps.clock.now().getTime() - Date.parse(from) < REVIEW_EVERY_DAYS * DAY) return null;
    return this.open({ type: 'system', id: 'job:audit-review', tenantId }, from);
  }

  /** A review of the log since the last one (or since the tenant began), now: an admin or auditor asked. */
  async openNow(actor: Actor): Promise<AuditReviewView> {
    const [last] = await this.deps.reviews.list(actor.tenantId, 1);
    const from = last?.period_to ?? (await this.deps.tenantCreatedAt(actor.tenantId));
    return this.open(actor, from);
  }

  async signOff(actor: Actor, id: string, findings: string): Promise<AuditReviewView> {
    const { database, audit, reviews, clock } = this.deps;
    const at = clock.now().toISOString();
    await database.transaction(async (trx) => {
      const r = await reviews.find(actor.tenantId, id, trx);
      if (!r) throw new AppError('audit.review_not_found');
      if (!(await reviews.signOff(trx, actor.tenantId, id, actor.id ?? actor.type, at, findings)))
        throw new AppError('audit.review_signed_off');
      await audit.append(trx, actor, {
        action: 'audit.review_signed_off',
        target: { type: 'audit_review', id },
        details: { periodFrom: r.period_from, periodTo: r.period_to, overdue: at > r.due_at, findingsLength: findings.length },
      });
    });
    return view((await reviews.find(actor.tenantId, id))!, at);
  }

  private async open(actor: Actor, from: string): Promise<AuditReviewView> {
    const { database, audit, reviews, clock } = this.deps;
    const now = clock.now();
    const to = now.toISOString();
    const summary = await this.summarise(actor.tenantId, from, to);
    const row: AuditReviewRow = {
      id: randomId(),
      tenant_id: actor.tenantId,
      period_from: from,
      period_to: to,
      due_at: new Date(now.getTime() + REVIEW_EVERY_DAYS * DAY).toISOString(),
      created_at: to,
      summary: JSON.stringify(summary),
      state: 'open',
      signed_off_by: null,
      signed_off_at: null,
      findings: null,
    };
    await database.transaction(async (trx) => {
      await reviews.insert(trx, row);
      await audit.append(trx, actor, {
        action: 'audit.review_opened',
        target: { type: 'audit_review', id: row.id },
        details: { periodFrom: from, periodTo: to, events: summary.events, notable: summary.notable.map((n) => n.kind) },
      });
    });
    return view(row, to);
  }

  /** What a reviewer should look at first, from the events of [from, to). */
  async summarise(tenantId: string, from: string, to: string): Promise<AuditReviewSummary> {
    const { reviews } = this.deps;
    const byOutcome = await reviews.countByOutcome(tenantId, from, to);
    const notable: AuditReviewSummary['notable'] = [];
    for (const f of await reviews.heavy(tenantId, from, to, 'ip', { in: ['auth.login_failed'] }, DETECTORS.failuresPerSource))
      notable.push({ kind: 'repeated_failures', count: f.n, who: f.key });
    const downloads = { in: ['file.downloaded', 'exchange.downloaded'] };
    for (const d of await reviews.heavy(tenantId, from, to, 'actor_id', downloads, DETECTORS.downloadsPerUser))
      notable.push({ kind: 'mass_download', count: d.n, who: d.key });
    const perms = { prefix: 'folder.permission_' };
    for (const p of await reviews.heavy(tenantId, from, to, 'actor_id', perms, DETECTORS.permissionChangesPerUser))
      notable.push({ kind: 'bulk_permission_changes', count: p.n, who: p.key });
    const offHours = new Map<string, number>();
    for (const e of await reviews.adminEvents(tenantId, from, to, ADMIN_PREFIXES))
      if (outsideOfficeHours(e.occurred_at)) offHours.set(e.actor_id ?? '', (offHours.get(e.actor_id ?? '') ?? 0) + 1);
    for (const [who, count] of offHours) notable.push({ kind: 'off_hours_admin', count, who: who || null });
    for (const [kind, action] of [
      ['malware', 'file.quarantined'],
      ['integrity', 'file.integrity_failed'],
    ] as const) {
      const total = await reviews.count(tenantId, from, to, action);
      if (total) notable.push({ kind, count: total });
    }
    // Users by name, as a reviewer knows them (addresses stay as they are).
    const names = await reviews.names(
      tenantId,
      notable.filter((n) => n.kind !== 'repeated_failures' && n.who).map((n) => n.who!),
    );
    for (const n of notable) if (n.kind !== 'repeated_failures' && n.who) n.who = names.get(n.who) ?? n.who;
    return { events: Object.values(byOutcome).reduce((a, n) => a + n, 0), byOutcome, notable };
  }
}

/** Before 07:00 or from 22:00 in Japan, or on a Saturday or Sunday (Japan has no daylight saving time). */
export function outsideOfficeHours(iso: string): boolean {
  const jst = new Date(Date.parse(iso) + 9 * 3_600_000);
  const hour = jst.getUTCHours();
  const day = jst.getUTCDay();
  return day === 0 || day === 6 || hour < 7 || hour >= 22;
}

function view(r: AuditReviewRow, now: string): AuditReviewView {
  return {
    id: r.id,
    periodFrom: r.period_from,
    periodTo: r.period_to,
    dueAt: r.due_at,
    createdAt: r.created_at,
    state: r.state,
    overdue: r.state === 'open' && now > r.due_at,
    summary: JSON.parse(r.summary) as AuditReviewSummary,
    signedOffBy: r.signed_off_by,
    signedOffAt: r.signed_off_at,
    findings: r.findings,
  };
}
