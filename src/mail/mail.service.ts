/**
 * Outgoing mail (TLS-04): a mail is rendered and written to the outbox in the caller's transaction
 * (so it exists exactly when the state change that caused it does) and sent by a `mail.send` job
 * with retries. Without SMTP configured, mails stay `unsent` in the outbox, where tenant admins see
 * them; failures after the retries are `failed` with the error. The transport is nodemailer (SMTP
 * with implicit TLS or STARTTLS required, certificates verified).
 */
import type { Kysely, Transaction } from 'kysely';
import type { Transporter } from 'nodemailer';
import type { AuditLog } from '../audit/audit-log.js';
import type { Clock } from '../core/clock.js';
import { systemActor, type TenantId } from '../core/types.js';
import { randomId } from '../crypto/primitives.js';
import type { DB, MailOutboxTable } from '../db/schema.js';
import type { JobQueue } from '../jobs/job-queue.js';
import { isSecretTemplate, renderMail, type MailLang } from './mail-templates.js';

export const MAIL_JOB = 'mail.send';
export const REDACTED_BODY = '(本文は送信後に削除されました / body removed after delivery)';
const MAIL_MAX_ATTEMPTS = 8;
type Executor = Kysely<DB> | Transaction<DB>;

export interface MailServiceDeps {
  db: Kysely<DB>;
  clock: Clock;
  audit: AuditLog;
  jobs: JobQueue;
  /** null = no SMTP configured: mails stay in the outbox as `unsent`. */
  transport: Transporter | null;
  from: string;
  /** The base URL put in mails (the LGWAN zone's, for staff). */
  baseUrl: () => string;
}

export type OutboxRow = MailOutboxTable;

export class MailService {
  constructor(private readonly deps: MailServiceDeps) {}

  get configured(): boolean {
    return this.deps.transport !== null;
  }

  /** Tells local workers that mails wait (after the queuing transaction committed). */
  kick(): void {
    this.deps.jobs.notify();
  }

  /** Renders and queues one mail per address in the caller's transaction. */
  async queue(
    trx: Executor,
    tenantId: string,
    to: Array<string | null | undefined>,
    template: string,
    params: Record<string, string>,
    lang: MailLang = 'ja',
  ): Promise<number> {
    const addresses = [...new Set(to.filter((a): a is string => Boolean(a && /^[^\s@]+@[^\s@]+$/.test(a))))];
    const now = this.deps.clock.now().toISOString();
    for (const address of addresses) {
      const { subject, body } = renderMail(template, lang, { url: this.deps.baseUrl(), ...params });
      const id = randomId();
      await trx
        .insertInto('mail_outbox')
        .values({
          id,
          tenant_id: tenantId,
          to_address: address,
          template,
          lang,
          subject,
          body,
          state: 'queued',
          attempts: 0,
          last_error: null,
          message_id: null,
          created_at: now,
          sent_at: null,
        })
        .execute();
      await this.deps.jobs.enqueue({ kind: MAIL_JOB, tenantId, payload: { id }, maxAttempts: MAIL_MAX_ATTEMPTS }, trx);
    }
    return addresses.length;
  }

  /** The `mail.send` job: sends one queued mail; throws (the job retries) when the server refuses or cannot be reached. */
  async send(tenantId: TenantId, id: string): Promise<void> {
    const { db, clock } = this.deps;
    const row = await db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row || row.state === 'sent') return;
    if (!this.deps.transport) {
      await db
        .updateTable('mail_outbox')
        .set({ state: 'unsent', last_error: 'mail is not configured' })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
      return;
    }
    const attempts = row.attempts + 1;
    try {
      const info = (await this.deps.transport.sendMail({
        from: this.deps.from,
        to: row.to_address,
        subject: row.subject,
        text: row.body,
      })) as { messageId?: string };
      await db
        .updateTable('mail_outbox')
        .set({
          state: 'sent',
          attempts,
          sent_at: clock.now().toISOString(),
          message_id: info.messageId ?? null,
          last_error: null,
          // A one-time code or a link is not kept once delivered: the outbox shows that it was sent, not what.
          ...(isSecretTemplate(row.template) ? { body: REDACTED_BODY } : {}),
        })
        .where('tenant_id', '=', tenantId)
        .where('id', '=', id)
        .execute();
    } catch (err) {
      const message = (err as Error).message.slice(0, 300);
      const final = attempts >= MAIL_MAX_ATTEMPTS;
      // The final failure and its audit event are one transaction.
      await db.transaction().execute(async (trx) => {
        await trx
          .updateTable('mail_outbox')
          .set({
            state: final ? 'failed' : 'queued',
            attempts,
            last_error: message,
            // A code or link that could not be delivered is not kept either.
            ...(final && isSecretTemplate(row.template) ? { body: REDACTED_BODY } : {}),
          })
          .where('tenant_id', '=', tenantId)
          .where('id', '=', id)
          .execute();
        if (final) {
          await this.deps.audit.append(trx, systemActor(tenantId, 'job:mail'), {
            action: 'mail.failed',
            target: { type: 'mail', id },
            outcome: 'error',
            reason: 'mail.failed',
            details: { template: row.template, to: row.to_address, attempts, error: message },
          });
        }
      });
      throw err;
    }
  }

  /** The tenant's outbox, newest first (admins: what was sent, what failed, what waits for SMTP). */
  list(tenantId: string, limit = 200): Promise<OutboxRow[]> {
    return this.deps.db
      .selectFrom('mail_outbox')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
  }
}
