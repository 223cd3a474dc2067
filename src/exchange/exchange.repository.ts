/**
 * Exchange tables (requests, shares, recipients, approvals, downloads). Tenant first in every query;
 * the only lookups without a tenant are by link-token hash, which is unique across tenants and is
 * how an outside party's request finds its tenant.
 */
import type { Kysely, Selectable, Transaction, Updateable } from 'kysely';
import type {
  DB,
  ExchangeDecisionsTable,
  ExchangeRecipientsTable,
  ExchangeRequestFilesTable,
  ExchangeRequestsTable,
  ExchangeShareFilesTable,
  ExchangeSharesTable,
} from '../db/schema.js';

type Executor = Kysely<DB> | Transaction<DB>;
export type RequestRow = Selectable<ExchangeRequestsTable>;
export type RequestFileRow = Selectable<ExchangeRequestFilesTable>;
export type ShareRow = Selectable<ExchangeSharesTable>;
export type ShareFileRow = Selectable<ExchangeShareFilesTable>;
export type RecipientRow = Selectable<ExchangeRecipientsTable>;
export type DecisionRow = Selectable<ExchangeDecisionsTable>;

export class ExchangeRepository {
  constructor(private readonly db: Kysely<DB>) {}

  // ---- upload requests ----

  async insertRequest(trx: Executor, row: RequestRow): Promise<void> {
    await trx.insertInto('exchange_requests').values(row).execute();
  }

  findRequest(tenantId: string, id: string, exec: Executor = this.db): Promise<RequestRow | undefined> {
    return exec
      .selectFrom('exchange_requests')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  requestByToken(hash: string, exec: Executor = this.db): Promise<RequestRow | undefined> {
    return exec.selectFrom('exchange_requests').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  requestsOf(tenantId: string, userId: string, exec: Executor = this.db): Promise<RequestRow[]> {
    return exec
      .selectFrom('exchange_requests')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('created_by', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(500)
      .execute();
  }

  async updateRequest(trx: Executor, tenantId: string, id: string, set: Updateable<ExchangeRequestsTable>): Promise<void> {
    await trx.updateTable('exchange_requests').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  async insertRequestFile(trx: Executor, row: RequestFileRow): Promise<void> {
    await trx.insertInto('exchange_request_files').values(row).execute();
  }

  requestFiles(tenantId: string, requestIds: string[], exec: Executor = this.db): Promise<RequestFileRow[]> {
    if (!requestIds.length) return Promise.resolve([]);
    return exec
      .selectFrom('exchange_request_files')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('request_id', 'in', requestIds)
      .orderBy('uploaded_at', 'asc')
      .execute();
  }

  requestFileByFile(tenantId: string, fileId: string, exec: Executor = this.db): Promise<RequestFileRow | undefined> {
    return exec
      .selectFrom('exchange_request_files')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('file_id', '=', fileId)
      .executeTakeFirst();
  }

  /** Resumable uploads of the request still open (they reserve quota). */
  async openUploads(tenantId: string, requestId: string, now: string, exec: Executor = this.db): Promise<number> {
    const r = await exec
      .selectFrom('upload_sessions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', tenantId)
      .where('exchange_request_id', '=', requestId)
      .where('state', '=', 'open')
      .where('expires_at', '>', now)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async markRequestFileDownloaded(trx: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await trx
      .updateTable('exchange_request_files')
      .set({ downloaded_at: at })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  /** Requests whose received files are due for deletion (HR-05), across tenants, for the daily job. */
  requestsDue(now: string, exec: Executor = this.db): Promise<RequestRow[]> {
    return exec
      .selectFrom('exchange_requests')
      .selectAll()
      .where('state', '!=', 'deleted')
      .where('delete_at', 'is not', null)
      .where('delete_at', '<=', now)
      .limit(500)
      .execute();
  }

  /** Open requests past their expiry (they close, and their deletion date is set). */
  requestsExpired(now: string, exec: Executor = this.db): Promise<RequestRow[]> {
    return exec
      .selectFrom('exchange_requests')
      .selectAll()
      .where('state', '=', 'open')
      .where('expires_at', '<=', now)
      .limit(500)
      .execute();
  }

  requestsToWarn(before: string, exec: Executor = this.db): Promise<RequestRow[]> {
    return exec
      .selectFrom('exchange_requests')
      .selectAll()
      .where('state', '!=', 'deleted')
      .where('delete_at', 'is not', null)
      .where('delete_at', '<=', before)
      .where('deletion_notified_at', 'is', null)
      .limit(500)
      .execute();
  }

  /**
   * Counts one answer to a code or password atomically, unless the link is locked; returns the
   * attempt number, or null when locked. Parallel guesses each use up an attempt.
   */
  async claimAttempt(
    trx: Executor,
    table: 'exchange_requests' | 'exchange_recipients',
    tenantId: string,
    id: string,
    now: string,
  ): Promise<number | null> {
    // A lock that ran out starts a fresh count.
    await trx
      .updateTable(table)
      .set({ code_attempts: 0, locked_until: null })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('locked_until', '<=', now)
      .execute();
    const r = await trx
      .updateTable(table)
      .set((eb) => ({ code_attempts: eb('code_attempts', '+', 1) }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<=', now)]))
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1) return null;
    const row = await trx
      .selectFrom(table)
      .select('code_attempts')
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.code_attempts ?? null;
  }

  // ---- shares ----

  async insertShare(trx: Executor, row: ShareRow): Promise<void> {
    await trx.insertInto('exchange_shares').values(row).execute();
  }

  findShare(tenantId: string, id: string, exec: Executor = this.db): Promise<ShareRow | undefined> {
    return exec
      .selectFrom('exchange_shares')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
  }

  sharesOf(tenantId: string, userId: string, exec: Executor = this.db): Promise<ShareRow[]> {
    return exec
      .selectFrom('exchange_shares')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('created_by', '=', userId)
      .orderBy('created_at', 'desc')
      .limit(500)
      .execute();
  }

  pendingShares(tenantId: string, exec: Executor = this.db): Promise<ShareRow[]> {
    return exec
      .selectFrom('exchange_shares')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('state', '=', 'pending')
      .orderBy('created_at', 'asc')
      .limit(500)
      .execute();
  }

  async updateShare(trx: Executor, tenantId: string, id: string, set: Updateable<ExchangeSharesTable>): Promise<void> {
    await trx.updateTable('exchange_shares').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  /** Moves a share from one state to another only if it is still in `from` (concurrent deciders): true when it did. */
  async transitionShare(
    trx: Executor,
    tenantId: string,
    id: string,
    from: ShareRow['state'],
    set: Updateable<ExchangeSharesTable>,
  ): Promise<boolean> {
    const r = await trx
      .updateTable('exchange_shares')
      .set(set)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async insertShareFiles(trx: Executor, rows: ShareFileRow[]): Promise<void> {
    if (rows.length) await trx.insertInto('exchange_share_files').values(rows).execute();
  }

  shareFiles(tenantId: string, shareIds: string[], exec: Executor = this.db): Promise<ShareFileRow[]> {
    if (!shareIds.length) return Promise.resolve([]);
    return exec
      .selectFrom('exchange_share_files')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('share_id', 'in', shareIds)
      .orderBy('name', 'asc')
      .execute();
  }

  async insertRecipients(trx: Executor, rows: RecipientRow[]): Promise<void> {
    if (rows.length) await trx.insertInto('exchange_recipients').values(rows).execute();
  }

  recipients(tenantId: string, shareIds: string[], exec: Executor = this.db): Promise<RecipientRow[]> {
    if (!shareIds.length) return Promise.resolve([]);
    return exec
      .selectFrom('exchange_recipients')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('share_id', 'in', shareIds)
      .orderBy('email', 'asc')
      .execute();
  }

  recipientByToken(hash: string, exec: Executor = this.db): Promise<RecipientRow | undefined> {
    return exec.selectFrom('exchange_recipients').selectAll().where('token_hash', '=', hash).executeTakeFirst();
  }

  async updateRecipient(trx: Executor, tenantId: string, id: string, set: Updateable<ExchangeRecipientsTable>): Promise<void> {
    await trx.updateTable('exchange_recipients').set(set).where('tenant_id', '=', tenantId).where('id', '=', id).execute();
  }

  async recipientDownloaded(trx: Executor, tenantId: string, id: string, at: string): Promise<void> {
    await trx
      .updateTable('exchange_recipients')
      .set((eb) => ({ downloads: eb('downloads', '+', 1), last_download_at: at }))
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .execute();
  }

  async clearRecipientTokens(trx: Executor, tenantId: string, shareId: string): Promise<void> {
    await trx
      .updateTable('exchange_recipients')
      .set({ token_hash: null, session_hash: null, session_expires_at: null, code_hash: null, code_expires_at: null })
      .where('tenant_id', '=', tenantId)
      .where('share_id', '=', shareId)
      .execute();
  }

  downloads(tenantId: string, recipientId: string, exec: Executor = this.db) {
    return exec
      .selectFrom('exchange_downloads')
      .select(['file_id', 'count', 'bytes', 'last_at'])
      .where('tenant_id', '=', tenantId)
      .where('recipient_id', '=', recipientId)
      .execute();
  }

  /**
   * Reserves `bytes` of the recipient's allowance for `fileId` (`limitBytes` in all) unless that
   * would exceed it; `fresh` counts a download (a request from byte 0). False when it does not fit.
   * One statement (insert, or add to the row when there is one and the sum fits): two first
   * downloads at once cannot both insert (PostgreSQL, READ COMMITTED) — the second waits for the
   * first's row and adds to it, or is refused by the limit.
   */
  async reserveDownload(
    trx: Executor,
    key: { tenantId: string; recipientId: string; fileId: string },
    bytes: number,
    limitBytes: number,
    fresh: boolean,
    at: string,
  ): Promise<boolean> {
    const { tenantId, recipientId, fileId } = key;
    // Reservations are never negative, so this is also the whole test for a first reservation.
    if (bytes > limitBytes) return false;
    const r = await trx
      .insertInto('exchange_downloads')
      .values({ recipient_id: recipientId, tenant_id: tenantId, file_id: fileId, count: fresh ? 1 : 0, bytes, last_at: at })
      .onConflict((oc) =>
        oc
          .columns(['recipient_id', 'file_id'])
          .doUpdateSet((eb) => ({
            bytes: eb(eb.ref('exchange_downloads.bytes'), '+', eb.ref('excluded.bytes')),
            count: eb(eb.ref('exchange_downloads.count'), '+', eb.ref('excluded.count')),
            last_at: eb.ref('excluded.last_at'),
          }))
          .where('exchange_downloads.tenant_id', '=', tenantId)
          .where((eb) => eb(eb(eb.ref('exchange_downloads.bytes'), '+', eb.ref('excluded.bytes')), '<=', limitBytes)),
      )
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  /** Gives back the part of a reservation that was not sent (the client stopped early). */
  async releaseDownload(key: { tenantId: string; recipientId: string; fileId: string }, bytes: number): Promise<void> {
    await this.db
      .updateTable('exchange_downloads')
      .set((eb) => ({ bytes: eb('bytes', '-', bytes) }))
      .where('tenant_id', '=', key.tenantId)
      .where('recipient_id', '=', key.recipientId)
      .where('file_id', '=', key.fileId)
      .execute();
  }

  async insertDecision(trx: Executor, row: DecisionRow): Promise<void> {
    await trx.insertInto('exchange_decisions').values(row).execute();
  }

  decisions(tenantId: string, shareIds: string[], exec: Executor = this.db): Promise<DecisionRow[]> {
    if (!shareIds.length) return Promise.resolve([]);
    return exec
      .selectFrom('exchange_decisions')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('share_id', 'in', shareIds)
      .orderBy('decided_at', 'asc')
      .execute();
  }

  /** Shares due: pending past their approval deadline, active past expiry, or past their deletion date. */
  sharesDue(now: string, exec: Executor = this.db): Promise<ShareRow[]> {
    return exec
      .selectFrom('exchange_shares')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('state', '=', 'pending'), eb('approval_expires_at', '<=', now)]),
          eb.and([eb('state', '=', 'active'), eb('expires_at', '<=', now)]),
          eb.and([eb('state', '!=', 'deleted'), eb('delete_at', 'is not', null), eb('delete_at', '<=', now)]),
        ]),
      )
      .limit(500)
      .execute();
  }

  sharesToWarn(before: string, exec: Executor = this.db): Promise<ShareRow[]> {
    return exec
      .selectFrom('exchange_shares')
      .selectAll()
      .where('state', '!=', 'deleted')
      .where('delete_at', 'is not', null)
      .where('delete_at', '<=', before)
      .where('deletion_notified_at', 'is', null)
      .limit(500)
      .execute();
  }

  // ---- approvers ----

  approvers(tenantId: string, exec: Executor = this.db) {
    return exec
      .selectFrom('exchange_approvers')
      .innerJoin('groups', (j) =>
        j.onRef('groups.id', '=', 'exchange_approvers.group_id').onRef('groups.tenant_id', '=', 'exchange_approvers.tenant_id'),
      )
      .innerJoin('users', (j) =>
        j.onRef('users.id', '=', 'exchange_approvers.user_id').onRef('users.tenant_id', '=', 'exchange_approvers.tenant_id'),
      )
      .select([
        'exchange_approvers.group_id',
        'groups.name as group_name',
        'exchange_approvers.user_id',
        'users.display_name',
        'users.email',
        'users.state',
        'users.role',
        'exchange_approvers.deputy',
      ])
      .where('exchange_approvers.tenant_id', '=', tenantId)
      .orderBy('groups.name')
      .execute();
  }

  async replaceApprovers(
    trx: Executor,
    tenantId: string,
    groupId: string,
    rows: { userId: string; deputy: boolean }[],
    at: string,
  ): Promise<void> {
    await trx.deleteFrom('exchange_approvers').where('tenant_id', '=', tenantId).where('group_id', '=', groupId).execute();
    if (rows.length)
      await trx
        .insertInto('exchange_approvers')
        .values(
          rows.map((r) => ({
            tenant_id: tenantId,
            group_id: groupId,
            user_id: r.userId,
            deputy: r.deputy ? 1 : 0,
            created_at: at,
          })),
        )
        .execute();
  }
}
