/**
 * Outgoing mail (TLS-04, MAL-03) against an in-process SMTP server (smtp-server) that offers
 * STARTTLS with its own certificate: a quarantined upload mails its uploader and the tenant admins
 * over TLS (certificate verified against the configured CA), in Japanese, without file content;
 * an unreachable server leaves the mail queued with the error and the job retrying; without SMTP
 * mails wait in the admin-visible outbox.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.js';
import { generateSelfSignedCertificate } from '../../src/crypto/certificates.js';
import { buildServer, type App } from '../../src/http/server.js';
import { Worker } from '../../src/jobs/worker.js';
import { MailService } from '../../src/mail/mail.service.js';
import { createTestKura, type TestKura } from '../support/kura.js';
import { Members, multipartBody, type Member, type TestTenant } from '../support/members.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
const clock = new ManualClock(new Date('2026-11-26T01:00:00.000Z'));
interface Received {
  to: string;
  subject: string;
  text: string;
  secure: boolean;
}
const received: Received[] = [];
let smtp: SMTPServer;
let smtpPort: number;
/** While set, the server refuses every connection (a mail server that is down for maintenance). */
let smtpDown = false;
let dir: string;
let k: TestKura;
let app: App;
let m: Members;
let tenant: TestTenant;
let staff: Member;
let admin: Member;

async function runJobs(kura: TestKura): Promise<void> {
  const w = new Worker(kura.services.jobs, { id: 'test', handlers: kura.services.jobHandlers });
  while (await w.runOnce());
}

async function setEmail(kura: TestKura, userId: string, email: string) {
  await kura.services.database.db.updateTable('users').set({ email }).where('id', '=', userId).execute();
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kura-mail-'));
  const cert = await generateSelfSignedCertificate({
    commonName: 'localhost',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    days: 2,
  });
  writeFileSync(join(dir, 'smtp-ca.pem'), cert.certPem);
  smtp = new SMTPServer({
    key: cert.keyPem,
    cert: cert.certPem,
    authOptional: true,
    disabledCommands: ['AUTH'],
    logger: false,
    onConnect(_session, cb) {
      cb(smtpDown ? new Error('service unavailable, try later') : undefined);
    },
    onData(stream, session, cb) {
      simpleParser(stream).then(
        (mail) => {
          received.push({
            to: String((mail.to as { text: string }).text),
            subject: mail.subject ?? '',
            text: mail.text ?? '',
            secure: session.secure,
          });
          cb();
        },
        (err: Error) => cb(err),
      );
    },
  });
  await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', () => r()));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  k = await createTestKura({
    clock,
    env: {
      KURA_SMTP_HOST: 'localhost',
      KURA_SMTP_PORT: String(smtpPort),
      KURA_SMTP_CA_FILE: join(dir, 'smtp-ca.pem'),
      KURA_MAIL_FROM: 'Kura テスト市 <kura@city.example.lg.jp>',
    },
  });
  app = await buildServer(k.services, { zone: 'lgwan', webUi: false });
  await app.ready();
  m = new Members(k, app, clock);
  tenant = await m.tenant();
  staff = await m.member(tenant);
  admin = await m.member(tenant, 'tenant_admin');
  await setEmail(k, staff.id, 'tanaka@city.example.lg.jp');
  await setEmail(k, admin.id, 'kanri@city.example.lg.jp');
}, 60_000);

afterAll(async () => {
  await app?.close();
  await k?.close();
  await new Promise<void>((r) => (smtp ? smtp.close(() => r()) : r()));
  rmSync(dir, { recursive: true, force: true });
});

/** The mail service of the test instance as it runs with no SMTP configured (the embedded default). */
const withoutSmtp = () =>
  new MailService({
    db: k.services.database.db,
    clock,
    audit: k.services.audit,
    jobs: k.services.jobs,
    transport: null,
    from: 'kura@localhost',
    baseUrl: () => 'https://localhost:8443',
  });

describe.runIf(process.env.KURA_TEST_CLAMD)(`mail on ${process.env.KURA_TEST_DB ?? 'sqlite'} (TLS-04)`, () => {
  it('mails the uploader and the admins about a quarantined file over STARTTLS, in Japanese, without its content [TLS-04, MAL-03]', async () => {
    const folder = (await staff.client.post('/api/v1/folders', { parentId: null, name: '受付' })).body.id;
    const { payload, contentType } = multipartBody('請求書.txt', Buffer.from(EICAR));
    const up = await staff.client.send('POST', `/api/v1/folders/${folder}/files`, payload, { 'content-type': contentType });
    expect(up.status).toBe(201);
    await runJobs(k);
    expect(received.map((r) => r.to).sort()).toEqual(['kanri@city.example.lg.jp', 'tanaka@city.example.lg.jp']);
    for (const r of received) {
      expect(r.secure).toBe(true);
      expect(r.subject).toBe('【Kura】ウイルスを検出したファイルを隔離しました');
      expect(r.text).toContain('請求書.txt');
      expect(r.text).toContain('Kura.Test.Eicar');
      expect(r.text).not.toContain('EICAR-STANDARD');
      expect(r.text).toMatch(/https:\/\/[^\s]+/);
      expect(r.text).not.toMatch(/token=|#/);
    }
    const outbox = await admin.client.get('/api/v1/admin/mail/outbox');
    expect(outbox.body.configured).toBe(true);
    expect(outbox.body.items.every((i: { state: string }) => i.state === 'sent')).toBe(true);
    expect((await staff.client.get('/api/v1/admin/mail/outbox')).status).toBe(403);
  });

  it('keeps a mail queued with the error while the server refuses it, and sends it on a later attempt [TLS-04]', async () => {
    smtpDown = true;
    const res = await admin.client.post('/api/v1/admin/mail/test');
    expect(res.status).toBe(202);
    const w = new Worker(k.services.jobs, { id: 'test', handlers: k.services.jobHandlers });
    await w.runOnce();
    const row = (await k.services.mail.list(tenant.id)).find((r) => r.template === 'test')!;
    expect(row).toMatchObject({ state: 'queued', attempts: 1 });
    expect(row.last_error).toMatch(/unavailable/i);
    // The server is back; the job's retry (after its backoff) delivers.
    smtpDown = false;
    clock.advance(10 * 60_000);
    await runJobs(k);
    expect((await k.services.mail.list(tenant.id)).find((r) => r.id === row.id)).toMatchObject({ state: 'sent', attempts: 2 });
    expect(received.some((r) => r.subject === '【Kura】テストメール')).toBe(true);
  });

  it('without SMTP keeps mails in the outbox as unsent for the admin to see [TLS-04]', async () => {
    const noSmtp = withoutSmtp();
    await k.services.database.transaction((trx) =>
      noSmtp.queue(trx, tenant.id, ['admin@city.example.lg.jp'], 'test', { tenant: 'テスト市' }),
    );
    const row = (await noSmtp.list(tenant.id)).find((r) => r.to_address === 'admin@city.example.lg.jp')!;
    await noSmtp.send(tenant.id, row.id);
    expect((await noSmtp.list(tenant.id)).find((r) => r.id === row.id)).toMatchObject({
      state: 'unsent',
      last_error: 'mail is not configured',
      subject: '【Kura】テストメール',
    });
    const outbox = await admin.client.get('/api/v1/admin/mail/outbox');
    expect(outbox.body.items.some((i: { id: string; state: string }) => i.id === row.id && i.state === 'unsent')).toBe(true);
  });

  it('never shows an admin a link or one-time code for an outside party, queued or unsent [TLS-03] [TLS-04]', async () => {
    const noSmtp = withoutSmtp();
    await k.services.database.transaction(async (trx) => {
      await noSmtp.queue(trx, tenant.id, ['citizen@example.jp'], 'exchange.code', { code: '424242', organization: 'テスト市' });
      await noSmtp.queue(trx, tenant.id, ['partner@example.jp'], 'exchange.share_link', {
        link: 'https://kura.example.jp/x/s/SECRETTOKENxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
        organization: 'テスト市',
        sender: '田中',
        purpose: '確認',
        expires: '2026-12-31',
      });
    });
    const rows = (await noSmtp.list(tenant.id)).filter((r) =>
      ['citizen@example.jp', 'partner@example.jp'].includes(r.to_address),
    );
    expect(rows).toHaveLength(2);
    const shown = async () =>
      JSON.stringify(
        (await admin.client.get('/api/v1/admin/mail/outbox')).body.items.filter((i: { to: string }) =>
          ['citizen@example.jp', 'partner@example.jp'].includes(i.to),
        ),
      );
    const queued = await shown();
    expect(queued).not.toContain('424242');
    expect(queued).not.toContain('SECRETTOKEN');
    for (const r of rows) await noSmtp.send(tenant.id, r.id);
    expect((await noSmtp.list(tenant.id)).filter((r) => rows.some((x) => x.id === r.id) && r.state === 'unsent')).toHaveLength(2);
    const unsent = await shown();
    expect(unsent).not.toContain('424242');
    expect(unsent).not.toContain('SECRETTOKEN');
  });
});
