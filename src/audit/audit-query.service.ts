/**
 * Reading a tenant's own audit log (LOG-04): search with filters, newest first, a page at a time;
 * CSV export of a filtered range for people (Excel, Japanese headers); and the JSONL export of the
 * whole chain with its signed checkpoints and the public keys, which anyone can verify offline with
 * `kura audit verify-export` (the same verifier as `kura audit verify`). Every export is itself an
 * audit event, recorded before the first byte leaves.
 */
import type { AuditLog } from './audit-log.js';
import type { AuditRepository, AuditRow, AuditSearch, AuditSearchRow } from './audit.repository.js';
import { fromRow } from './audit-verify.service.js';
import { exportSealInput, type ExportSealBody } from './chain.js';
import type { SigningKey } from '../crypto/signing.js';
import type { Clock } from '../core/clock.js';
import { CSV_BOM, csvRow } from '../core/csv.js';
import type { Actor, TenantId } from '../core/types.js';
import type { Database } from '../db/database.js';

export const EXPORT_FORMAT = 'kura-audit-export';
export const EXPORT_VERSION = 1;
const PAGE = 500;

export type AuditFilter = Omit<AuditSearch, 'before' | 'after'>;

export interface AuditEventView {
  seq: number;
  occurredAt: string;
  actor: { type: string; id: string | null; loginId: string | null; displayName: string | null };
  ip: string | null;
  zone: string | null;
  userAgent: string | null;
  requestId: string | null;
  action: string;
  target: { type: string | null; id: string | null };
  outcome: AuditRow['outcome'];
  reason: string | null;
  details: Record<string, unknown>;
}

export interface AuditQueryDeps {
  database: Database;
  clock: Clock;
  audit: AuditLog;
  repository: AuditRepository;
  /** Checkpoint signing keys by id (the store's and the database's). */
  publicKeys: () => Promise<Map<string, string>>;
  /** The service's checkpoint signing key: it also seals each export. */
  signing: SigningKey;
}

export class AuditQueryService {
  constructor(private readonly deps: AuditQueryDeps) {}

  /** One page, newest first; `nextBefore` continues below it (null: no more). */
  async search(tenantId: TenantId, filter: AuditFilter, before: number | undefined, limit: number) {
    const rows = await this.deps.repository.search(tenantId, { ...filter, before }, limit + 1);
    const items = rows.slice(0, limit).map(view);
    return { items, nextBefore: rows.length > limit ? items[items.length - 1]!.seq : null };
  }

  /** The id of the key that signs checkpoints and exports (shown to tenants to check exports against). */
  signingKeyId(): string {
    return this.deps.signing.keyId;
  }

  /** Events after `after`, oldest first; `nextAfter` is where to continue (the last seq seen). */
  async forward(tenantId: TenantId, filter: AuditFilter, after: number, limit: number) {
    const rows = await this.deps.repository.search(tenantId, { ...filter, after }, limit, 'asc');
    const items = rows.map(view);
    return { items, nextAfter: items.length ? items[items.length - 1]!.seq : after };
  }

  /** The filtered events, oldest first, as CSV lines (BOM first). The export is audited first. */
  async exportCsv(actor: Actor, filter: AuditFilter): Promise<AsyncIterable<string>> {
    await this.recordExport(actor, 'csv', filter);
    const repository = this.deps.repository;
    return (async function* () {
      yield (
        CSV_BOM +
        csvRow([
          '連番',
          '日時(UTC)',
          '日時(日本時間)',
          '実行者種別',
          '実行者ID',
          'ログインID',
          '氏名',
          '接続元IP',
          'ゾーン',
          '操作',
          '対象種別',
          '対象ID',
          '結果',
          '理由',
          '詳細',
          'リクエストID',
          'ユーザーエージェント',
        ])
      );
      let after = 0;
      for (;;) {
        const page = await repository.search(actor.tenantId, { ...filter, after }, PAGE, 'asc');
        for (const r of page)
          yield csvRow([
            r.seq,
            r.occurred_at,
            jst(r.occurred_at),
            r.actor_type,
            r.actor_id,
            r.actor_login,
            r.actor_name,
            r.ip,
            r.zone,
            r.action,
            r.target_type,
            r.target_id,
            r.outcome,
            r.reason,
            r.details,
            r.request_id,
            r.user_agent,
          ]);
        if (page.length < PAGE) return;
        after = page[page.length - 1]!.seq;
      }
    })();
  }

  /**
   * The whole chain as JSON lines: a header (tenant, time, the head it ends at, the public keys),
   * the signed checkpoints, then every event up to that head as stored. Filters do not apply: a
   * verifier needs every entry. The export is audited first, so it includes its own event.
   */
  async exportJsonl(actor: Actor): Promise<AsyncIterable<string>> {
    const { repository } = this.deps;
    await this.recordExport(actor, 'jsonl', {});
    const tenantId = actor.tenantId;
    // Checkpoints, then the head: every checkpoint read covers at most the head (see AuditVerifyService).
    const checkpoints = (await repository.checkpoints(tenantId)).map(fromRow);
    const head = await repository.head(tenantId);
    const keys = await this.deps.publicKeys();
    keys.set(this.deps.signing.keyId, this.deps.signing.publicKeyPem);
    // The seal signs the head the export ends at: nothing can be cut from or added to the end, or
    // edited after the last checkpoint, without the service's key.
    const seal: ExportSealBody = {
      tenantId,
      exportedAt: this.deps.clock.now().toISOString(),
      head: head ? { seq: head.seq, entryHash: head.entryHash } : null,
      keyId: this.deps.signing.keyId,
    };
    const header = {
      type: EXPORT_FORMAT,
      version: EXPORT_VERSION,
      ...seal,
      seal: this.deps.signing.sign(exportSealInput(seal)),
      publicKeys: [...keys].map(([keyId, publicKey]) => ({ keyId, publicKey })),
    };
    return (async function* () {
      yield JSON.stringify(header) + '\n';
      for (const cp of checkpoints) yield JSON.stringify({ type: 'checkpoint', ...cp }) + '\n';
      if (!head) return;
      for await (const row of repository.events(tenantId)) {
        if (row.seq > head.seq) return;
        yield JSON.stringify({ type: 'event', ...row }) + '\n';
      }
    })();
  }

  private async recordExport(actor: Actor, format: 'csv' | 'jsonl', filter: AuditFilter): Promise<void> {
    const given = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== undefined));
    await this.deps.database.transaction((trx) =>
      this.deps.audit.append(trx, actor, {
        action: 'audit.exported',
        target: { type: 'tenant', id: actor.tenantId },
        details: { format, filter: given },
      }),
    );
  }
}

/** 2026-11-27T01:00:00.000Z → 2026-11-27 10:00:00 (Japan has no daylight saving time). */
function jst(iso: string): string {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '' : new Date(t + 9 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

function view(r: AuditSearchRow): AuditEventView {
  let details: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(r.details);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) details = parsed as Record<string, unknown>;
  } catch {
    // Stored by the chain as canonical JSON; anything else is shown as nothing rather than failing the page.
  }
  return {
    seq: Number(r.seq),
    occurredAt: r.occurred_at,
    actor: { type: r.actor_type, id: r.actor_id, loginId: r.actor_login, displayName: r.actor_name },
    ip: r.ip,
    zone: r.zone,
    userAgent: r.user_agent,
    requestId: r.request_id,
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    outcome: r.outcome,
    reason: r.reason,
    details,
  };
}
